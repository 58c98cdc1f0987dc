"""Vector storage benchmark (issue 20, item 3 "disk"): disk bytes per area, reopen to the first answered
search, recall@10, for 100,000 384-d vectors with ~40-word texts, a 10-value category and a year.

    python bench/bench_vector_storage.py build DIR [--n 100000] [--code SRC]   # load DIR, wait for the index
    python bench/bench_vector_storage.py measure DIR [--code SRC] [--runs 5]   # disk, reopen, recall@10 (ef=64)
    python bench/bench_vector_storage.py ab OLD_DB NEW_DB --old-code SRC [--code SRC] [--rounds 5]   # reopen A/B

``--code SRC`` runs another copy of the package (``git archive HEAD src/rem_db | tar -x -C /tmp/base`` then
``--code /tmp/base/src``). Vectors are the clustered synthetic ones of bench_vectors.py (200 centres, noise
0.06), written through the public ``insert_batch(..., vectors=)``; recall@10 is measured against exact float32
search over the generated vectors (not the stored ones), at the table's ef_search (64). Reopen is timed in a
fresh subprocess per run, from ``Database(path)`` (after ``import rem_db``) to the first
``search(vector=...)`` result; the page cache is warm (a run right after another), as in the peers bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DIMS = 384
N_QUERIES = 200
WORDS = (
    "energy", "storage", "hydrogen", "market", "board", "memo", "revenue", "growth", "plant", "water", "light",
    "data", "center", "campus", "power", "wind", "turbine", "fund", "capital", "investment", "partner", "term",
    "sheet", "office", "park", "hotel", "senior", "living", "warehouse", "industrial", "quarter", "forecast",
    "pipeline", "lender", "tenant", "lease", "yield", "margin", "cost", "grid", "battery", "solar", "river",
    "north", "south", "contract", "review", "budget", "audit", "team", "project", "design", "build", "launch",
    "customer", "supplier",
)
SCHEMA = {"title": "docs", "description": "Benchmark documents (issue 20 disk).", "type": "object",
          "properties": {"key": {"type": "string"}, "body": {"type": "string"}, "category": {"type": "string"},
                         "year": {"type": "integer"}},
          "indexed_fields": ["category"], "embedding_fields": ["body"]}


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clustered unit vectors and ``N_QUERIES`` queries near the same centres (seeded)."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((200, DIMS)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vecs = centres[rng.integers(0, 200, n)] + 0.06 * rng.standard_normal((n, DIMS)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    qrng = np.random.default_rng(1)
    queries = centres[qrng.integers(0, 200, N_QUERIES)] + 0.06 * qrng.standard_normal((N_QUERIES, DIMS)).astype(
        np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return vecs.astype(np.float32), queries.astype(np.float32)


def rows(start: int, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(start + 7)
    words = np.array(WORDS)
    return [{"key": f"k{i}", "body": " ".join(words[rng.integers(0, len(WORDS), 40)]) + ".",
             "category": f"c{i % 10}", "year": 2000 + i % 25} for i in range(start, start + count)]


def _env(code: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    return env


def _child(code: str | None, args: list[str]) -> Any:
    """Run this script's ``args`` with the package at ``code``; its last stdout line is JSON."""
    out = subprocess.run([sys.executable, __file__, *args], env=_env(code), check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- in the child --------------------------------------------------------------------------------------------
def do_build(path: Path, n: int) -> dict[str, Any]:
    from rem_db import Database

    vecs, queries = data(n)
    t0 = time.perf_counter()
    with Database(path) as db:
        db.register_schema(SCHEMA)
        for start in range(0, n, 10_000):
            count = min(10_000, n - start)
            db.insert_batch("docs", rows(start, count), vectors=vecs[start:start + count])
        loaded = time.perf_counter() - t0
        db.search(vector=queries[0], schema="docs", top_k=10)
        index = db.stats("docs")
    return {"load_s": loaded, "total_s": time.perf_counter() - t0, "index": str(index.get("details", ""))[:300]}


def do_reopen(path: Path) -> dict[str, Any]:
    _, queries = data(1)
    import rem_db  # the import is not part of the reopen figure

    t0 = time.perf_counter()
    db = rem_db.Database(path)
    opened = time.perf_counter() - t0
    hits = db.search(vector=queries[0], schema="docs", top_k=10)
    first = time.perf_counter() - t0
    assert len(hits) == 10
    db.close()
    return {"open_s": opened, "first_s": first}


def do_measure(path: Path, n: int) -> dict[str, Any]:
    from rem_db import Database

    vecs, queries = data(n)
    truth = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    with Database(path) as db:
        db.search(vector=queries[0], schema="docs", top_k=10)
        db.wait_idle()  # the graph loaded and swapped in (searches before that are answered from the saved files)
        disk = db.stats()["disk"]
        recalls, lat = [], []
        for q, exact in zip(queries, truth, strict=True):
            t0 = time.perf_counter()
            hits = db.search(vector=q, schema="docs", top_k=10)
            lat.append(time.perf_counter() - t0)
            got = {int(e["key"][1:]) for e, _ in hits}
            recalls.append(len(got & set(exact.tolist())) / 10)
    du = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return {"disk": disk, "du": du, "recall": float(np.mean(recalls)), "p50_ms": statistics.median(lat) * 1e3}


# -- the parent ------------------------------------------------------------------------------------------------
def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _mib(b: float) -> str:
    return f"{b / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["build", "measure", "ab", "_build", "_reopen", "_measure"])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--code", default=None)
    parser.add_argument("--old-code", default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    a = parser.parse_args()
    if a.what.startswith("_"):
        fn = {"_build": lambda: do_build(a.paths[0], a.n), "_reopen": lambda: do_reopen(a.paths[0]),
              "_measure": lambda: do_measure(a.paths[0], a.n)}[a.what]
        print(json.dumps(fn()))
        return
    if a.what == "build":
        print(_child(a.code, ["_build", str(a.paths[0]), "--n", str(a.n)]))
    elif a.what == "measure":
        m = _child(a.code, ["_measure", str(a.paths[0]), "--n", str(a.n)])
        reopen = [_child(a.code, ["_reopen", str(a.paths[0])]) for _ in range(a.runs)]
        print("disk MiB per area: " + ", ".join(f"{k} {_mib(v)}" for k, v in m["disk"].items())
              + f"; directory {_mib(m['du'])}")
        print(f"recall@10 (ef=64, vs exact float32) {m['recall']:.3f}; search p50 {m['p50_ms']:.3f} ms")
        print(f"reopen: Database() {statistics.median(r['open_s'] for r in reopen) * 1e3:.1f} ms, first search "
              f"{statistics.median(r['first_s'] for r in reopen) * 1e3:.1f} ms (median of {a.runs}); "
              f"loadavg {_load()}")
    else:  # ab
        old, new = [], []
        for _ in range(a.rounds):
            old.append(_child(a.old_code, ["_reopen", str(a.paths[0])])["first_s"])
            new.append(_child(a.code, ["_reopen", str(a.paths[1])])["first_s"])
        mo, mn = statistics.median(old), statistics.median(new)
        print(f"reopen to first search: old {mo * 1e3:.1f} ms, new {mn * 1e3:.1f} ms, new/old {mn / mo:.3f} "
              f"({a.rounds} interleaved rounds); loadavg {_load()}")


if __name__ == "__main__":
    main()
