"""The local model gives a text the same vector, bit for bit, whatever it is embedded with (issue 19): alone or
in a batch of longer and shorter texts, in any order, on one thread or two, in another process."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rem_db.embeddings.local import LocalMiniLM, model_dir, model_file_name

WORDS = ["wind", "grid", "lease", "tenant", "solar", "storage", "board", "memo", "fern", "cactus", "light", "revenue"]
# 64 texts from 1 to ~300 tokens (the longest are cut at 256), with odd ones among them
TEXTS = [" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(1 + (i * 37) % 120)) + "." for i in range(56)]
TEXTS += ["", "?", "ok " * 300, "naïve café — 東京 🚀", "x=1; y=2; print(x+y)", "[SEP] [MASK] [CLS]",
          "Q3 revenue: 1,284 units (+12% QoQ)", "How do I water a fern?"]


@pytest.fixture(scope="module", params=["int8", "fp32"])
def provider(request: pytest.FixtureRequest) -> LocalMiniLM:
    return LocalMiniLM(precision=request.param)


def test_a_text_alone_and_in_any_batch_gets_the_same_vector(provider: LocalMiniLM) -> None:
    alone = np.vstack([provider.embed_batch([text]) for text in TEXTS])
    batched = provider.embed_batch(TEXTS)
    order = list(range(len(TEXTS)))
    random.Random(7).shuffle(order)
    shuffled = np.empty_like(batched)
    shuffled[order] = provider.embed_batch([TEXTS[i] for i in order])
    assert np.array_equal(alone, batched)
    assert np.array_equal(alone, provider.embed_batch(TEXTS[::-1])[::-1])
    assert np.array_equal(alone, shuffled)
    # a short text grouped with only much longer ones, a long one with only short ones
    by_length = sorted(range(len(TEXTS)), key=lambda i: len(TEXTS[i]))
    short, long = by_length[0], by_length[-1]
    with_long = provider.embed_batch([TEXTS[short]] + [TEXTS[i] for i in by_length[-7:]])
    with_short = provider.embed_batch([TEXTS[long]] + [TEXTS[i] for i in by_length[:7]])
    assert np.array_equal(with_long[0], alone[short])
    assert np.array_equal(with_short[0], alone[long])


def test_the_number_of_threads_does_not_change_a_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("P8_EMBEDDING_THREADS", threads)
        vectors[threads] = LocalMiniLM(precision="int8").embed_batch(TEXTS)
    assert np.array_equal(vectors["1"], vectors["2"])


def test_another_process_gets_the_same_vectors(tmp_path: Path) -> None:
    out = tmp_path / "vectors.npy"
    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[2]); from test_local_determinism import TEXTS; "
              "from rem_db.embeddings.local import LocalMiniLM; "
              "np.save(sys.argv[1], LocalMiniLM(precision='int8').embed_batch(TEXTS[::-1])[::-1])")
    subprocess.run([sys.executable, "-c", script, str(out), str(Path(__file__).parent)], check=True, timeout=120)
    assert np.array_equal(np.load(out), LocalMiniLM(precision="int8").embed_batch(TEXTS))


def test_a_changed_calibration_never_reuses_a_model_built_from_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from rem_db.embeddings import calibration

    before = model_file_name(model_dir(), "int8")
    monkeypatch.setattr(calibration, "TEXTS", (*calibration.TEXTS, "one more calibration text"))
    assert model_file_name(model_dir(), "int8") != before
