"""The peers benchmark (bench/peers/) without any peer installed: its REM module, through REM's public vector
API, finds the true nearest rows, and the runner's table lands between its markers in RESULTS.md, replaced
on a second run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from peers import run
from peers.systems.rem import RemSystem


def _rows(n: int) -> tuple[list[dict[str, object]], np.ndarray]:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((20, 384))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    cats = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
    rows = [{"id": f"doc-{i}", "body": f"row {i}", "category": cats[i % 10], "year": 2000 + i % 25}
            for i in range(n)]
    return rows, vectors


def test_rem_module_recall_filter_get_insert_reopen(tmp_path: Path) -> None:
    rows, vectors = _rows(500)
    rem = RemSystem(tmp_path / "rem", 384)
    rem.create_and_load(rows, vectors)
    rem.wait_indexed()
    hits = 0
    for q in vectors[:50]:
        truth = {f"doc-{i}" for i in np.argsort(-(vectors @ q))[:10]}
        hits += len(truth & set(rem.search(q)))
    assert hits / 500 >= 0.9
    assert all(rows[int(d[4:])]["category"] == "c" for d in rem.search(vectors[0], category="c"))
    assert rem.get("doc-7")["doc_id"] == "doc-7"
    rem.insert({"id": "doc-500", "body": "new", "category": "a", "year": 2025}, vectors[1] * -1)
    assert rem.search(vectors[1] * -1)[0] == "doc-500"
    rem.close()
    again = RemSystem(tmp_path / "rem", 384)
    again.open()
    assert again.search(vectors[0])[0] == "doc-0"
    again.close()


def test_table_writer_replaces_its_block(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n## Other section\n\nkept\n")
    figures = {"system": "REM", "index": "HNSW", "n": 500, "load_rows_s": 1000.0, "first_correct_s": 0.01,
               "search_p50_ms": 0.4, "recall": 0.99, "filter_p50_ms": 1.0, "filter_first_p50_ms": 2.0,
               "filter_recall": 1.0, "get_p50_us": 8.0, "insert_p50_us": 100.0, "reopen_s": 0.1,
               "disk_bytes": 2**20}
    peer = {**figures, "system": "Peer", "search_p50_ms": 0.8}
    figures["indexed_rows_s"] = 900.0  # measured for REM only (an older worker run of the peer lacks it)
    run.write(run.table(run.medians([figures, peer])), results)
    run.write(run.table(run.medians([figures, peer, figures, peer])), results)
    text = results.read_text()
    assert text.count(run.BEGIN) == 1 and text.count(run.END) == 1 and "kept" in text
    assert "## Versus peers (issue 20)" in text
    assert "0.40 ms" in text and "0.50×" in text  # REM ÷ peer on search p50
    assert "| bulk load incl. the whole index, rows/s | 900 | – |" in text
