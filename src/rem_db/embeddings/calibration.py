"""Calibration texts for the ``int8`` graph of the local model (see :mod:`.minilm_graph`).

When the int8 graph is built, the exact (fp32) model runs once over these texts. The range of each activation it
sees sets that activation's fixed int8 scale, and the mean of each channel is subtracted before quantising
(folded into the biases, so it costs nothing at run time). Fixed scales make a text's vector independent of the
other texts embedded with it.

The texts are chosen to cover what a database is asked to embed: questions and keyword queries, prose on many
subjects, business documents with figures, spreadsheet rows, code, markup, other languages and scripts, and short
or odd strings. None of them appears in the tests or benchmarks that measure the model's accuracy. The built
model's cache file name carries a digest of this list, so changing it builds a new graph.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .minilm_graph import MAX_TOKENS, ChannelStats, build_model, pack_batch, probe_names

TEXTS: tuple[str, ...] = (
    # questions and keyword queries
    "What is the boiling point of water at high altitude?",
    "how to reset a forgotten router password",
    "Who wrote the novel about a white whale?",
    "best hiking trails near the lake district",
    "When does the warranty on my laptop expire?",
    "symptoms of vitamin D deficiency",
    "Which department approves travel expenses over 5,000 euros?",
    "python read csv skip first row",
    "quarterly revenue forecast 2025",
    "Is it safe to leave a lithium battery charging overnight?",
    "cheap flights Lisbon October",
    "Why do cats purr?",
    # prose on many subjects
    "The Amazon rainforest produces a large share of the world's oxygen through photosynthesis, yet it also "
    "consumes most of it through respiration and decomposition.",
    "Medieval cathedrals took generations to build; the masons who laid the foundations rarely lived to see the "
    "spires completed.",
    "A violin's tone depends on the wood, the varnish, the shape of the f-holes and the tension of the strings.",
    "In 1969, two astronauts walked on the Moon while a third orbited alone in the command module.",
    "Sourdough bread rises because wild yeast and lactic acid bacteria ferment the flour and release carbon "
    "dioxide.",
    "The court ruled that the contract was void because one party had signed it under duress.",
    "Glaciers carve U-shaped valleys, while rivers tend to cut narrower V-shaped ones.",
    "The patient was prescribed antibiotics for ten days and advised to rest and drink plenty of fluids.",
    "Chess engines evaluate millions of positions per second, but human grandmasters rely on pattern recognition.",
    "Coral reefs cover less than one percent of the ocean floor but shelter about a quarter of all marine "
    "species.",
    "The orchestra rehearsed the symphony for three weeks before the premiere in the new concert hall.",
    "Vaccines train the immune system to recognise a pathogen without causing the disease itself.",
    "She planted tomatoes, basil and marigolds together, because the flowers keep some pests away.",
    "Inflation erodes the purchasing power of savings, which is why central banks raise interest rates.",
    # business documents with figures
    "Net operating income rose 7.4% year over year to $18.2 million, driven by higher occupancy and lower "
    "utility costs.",
    "The lender requires a minimum debt service coverage ratio of 1.30x and a maximum loan-to-value of 65%.",
    "Board resolution: the committee approves the acquisition of the Westfield logistics site for 42.5 million, "
    "subject to due diligence and financing.",
    "Q3 bookings: 1,284 units (+12% QoQ); churn 2.1%; gross margin 61.8%; cash runway 19 months.",
    "Please find attached the signed term sheet. Closing is scheduled for March 14; wire instructions will "
    "follow under separate cover.",
    "The tenant has exercised its renewal option for a further five years at a rent of EUR 23.50 per square "
    "metre per month.",
    "Capex budget FY2026: solar array 2.4M, battery storage 1.1M, grid connection 0.6M, contingency 10%.",
    # spreadsheet rows and tables
    "Month: Jan | Revenue: 120,000 | Costs: 95,500 | EBITDA: 24,500 | Headcount: 14",
    "Unit 4B; Floor 2; Area 1,150 sq ft; Lease start 2023-07-01; Lease end 2028-06-30; Rent 4,200",
    "Year 1: -2,500,000 | Year 2: 350,000 | Year 3: 910,000 | Year 4: 1,240,000 | IRR: 14.2%",
    "| Region | Sales | Growth |\n|---|---|---|\n| North | 4.2M | 8% |\n| South | 3.1M | -2% |",
    "SKU-10432, blue ceramic mug, 350 ml, qty 48, unit price 6.90, total 331.20",
    # code and data formats
    "def merge(a, b):\n    out = dict(a)\n    for key, value in b.items():\n        out[key] = value\n    return out",
    "SELECT customer_id, SUM(amount) AS total FROM orders WHERE status = 'paid' GROUP BY customer_id "
    "HAVING SUM(amount) > 1000;",
    '{"id": 17, "name": "sensor-a", "readings": [21.4, 21.9, 22.3], "active": true, "location": null}',
    "for f in *.log; do gzip -9 \"$f\" && mv \"$f.gz\" archive/; done",
    "const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);",
    "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\nKeyError: 'user_id'",
    "<div class=\"card\"><h2>Settings</h2><input type=\"checkbox\" checked> Enable notifications</div>",
    # markup and structured prose
    "# Installation\n\n1. Download the archive.\n2. Unpack it into `/opt/app`.\n3. Run `./install.sh --prefix "
    "/usr/local`.",
    "## Risks\n- Construction delays could push completion into Q2.\n- Interest rate exposure is hedged to 80%.",
    "Note: the API returns HTTP 429 when the rate limit is exceeded; clients should retry after the number of "
    "seconds given in the Retry-After header.",
    # other languages and scripts
    "Die Sitzung des Aufsichtsrats wurde auf den kommenden Donnerstag verschoben.",
    "Le musée est fermé le lundi, mais les jardins restent ouverts toute la semaine.",
    "El informe anual muestra un aumento de las ventas en todas las regiones del país.",
    "人工智能正在改变医疗、金融和教育等许多行业。",
    "明日の会議は午前十時から第三会議室で行われます。",
    "Поезд отправляется с третьего пути через пятнадцать минут.",
    "تم افتتاح المكتبة الجديدة في وسط المدينة الأسبوع الماضي.",
    "서울의 겨울은 춥고 건조하며 여름은 덥고 습합니다.",
    # short and odd strings
    "",
    "ok",
    "N/A",
    "Thanks!",
    "https://example.org/reports/2024/annual.pdf?download=1",
    "jane.doe@example.com, +44 20 7946 0958",
    "URGENT: PLEASE CONFIRM BY FRIDAY!!!",
    "🙂 great job team 🎉🎉",
    "id=8842; status=FAILED; retries=3; elapsed_ms=1532",
    "--- *** --- *** ---",
    # long passages
    "The municipal water utility serves roughly 240,000 households. Over the past decade it has replaced about "
    "a third of its cast-iron mains, which reduced leakage from 18 percent of supply to 11 percent. The remaining "
    "replacement programme is expected to cost 310 million over twelve years and will be financed partly by a "
    "tariff increase of 2.5 percent a year above inflation and partly by green bonds. Customer complaints have "
    "fallen steadily, although discoloured water after main bursts remains the most common issue reported.",
    "Our hiking group left the village before sunrise, following a narrow path along the river until it "
    "climbed steeply through pine forest. By mid-morning the trees thinned and we could see the ridge, still "
    "patched with snow. Lunch was bread, cheese and dried apricots on a flat rock, with a view across three "
    "valleys. The descent took longer than planned because one of us twisted an ankle, so we reached the hut "
    "only at dusk, tired but pleased that nobody had turned back.",
    "Release notes, version 3.2: the import tool now detects the delimiter of CSV files automatically; large "
    "exports are streamed instead of held in memory; the search page remembers the last filter; a crash when "
    "opening files with non-ASCII names on Windows was fixed; the minimum supported Python version is now 3.10. "
    "Upgrading requires no migration, but custom plugins must be rebuilt against the new plugin interface.",
)


def activation_stats(model_dir: Path, texts: Sequence[str] = TEXTS) -> dict[str, ChannelStats]:
    """Per-channel mean, minimum and maximum of every probed activation of the exact model over ``texts``
    (the token stream's rows and the ``[CLS]`` rows are separate activations)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    config = json.loads((model_dir / "config.json").read_text())
    names = probe_names(config["num_hidden_layers"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(build_model(model_dir, "fp32", probes=True).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    ids = [e.ids for e in tokenizer.encode_batch(list(texts))]
    sums: dict[str, np.ndarray] = {}
    lows: dict[str, np.ndarray] = {}
    highs: dict[str, np.ndarray] = {}
    rows: dict[str, int] = {}
    for start in range(0, len(ids), 16):
        for name, value in zip(names, session.run(names, pack_batch(ids[start:start + 16])), strict=True):
            value = value.astype(np.float64)
            sums[name] = sums.get(name, 0) + value.sum(axis=0)
            lows[name] = np.minimum(lows.get(name, value.min(axis=0)), value.min(axis=0))
            highs[name] = np.maximum(highs.get(name, value.max(axis=0)), value.max(axis=0))
            rows[name] = rows.get(name, 0) + len(value)
    return {name: ChannelStats(sums[name] / rows[name], lows[name], highs[name]) for name in names}
