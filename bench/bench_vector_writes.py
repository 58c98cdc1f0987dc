"""Write-side figures of issue 20 (item 3): bulk load rows/s with precomputed vectors (until the load
returns, and until the HNSW graph holds it all: ``wait_idle``), time from the end of the load to the first
answered search, search p50 while the graph is still catching up (exact over the pending tail) and once it
has, and single insert p50 with a vector.

    python bench/bench_vector_writes.py --n 100000                  # this tree
    python bench/bench_vector_writes.py --n 20000 --ab /tmp/base/src --rounds 3
        # interleaved A/B against a copy of the committed package
        # (git archive HEAD src/rem_db | tar -x -C /tmp/base), each measurement in a fresh subprocess

Rows are the peers corpus (bench/peers/corpus.py: ~37-word texts, 10 categories, a year) with the schema of
bench/peers/systems/rem.py (key field, two indexed fields, BM25 over the body, HNSW m=16 ef_c=200), written
with ``insert_batch(..., vectors=)`` in batches of 10,000; the vectors are seeded clustered unit vectors
(bench_vectors.clustered), so no model is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BATCH = 10_000
SINGLES = 2_000
CATCH_UP_SEARCHES = 40  # right after the load, while the worker is still building the graph
STEADY_SEARCHES = 200  # once it is done (``wait_idle``)


def measure(n: int) -> dict[str, float]:
    """One run in this process: bulk rows/s, seconds to the first search, single insert p50 (µs)."""
    import numpy as np

    sys.path[:0] = [str(HERE), str(HERE / "peers")]
    from peers.corpus import metadata, texts
    from peers.systems.rem import SCHEMA, TABLE
    from rem_db import Database

    total = n + SINGLES
    body, (cats, years) = texts(total), metadata(total)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((200, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, total)] + 0.06 * rng.standard_normal((total, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [{"doc_id": f"doc-{i}", "body": body[i], "category": cats[i], "year": years[i]} for i in range(total)]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "db")
        db.register_schema(SCHEMA)
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            db.insert_batch(TABLE, rows[start:min(n, start + BATCH)], vectors=vectors[start:min(n, start + BATCH)])
        bulk = n / (time.perf_counter() - t0)
        loaded = time.perf_counter()
        hits = db.search(vector=vectors[n - 1], schema=TABLE, top_k=10)
        first = time.perf_counter() - loaded
        assert hits and hits[0][0]["doc_id"] == f"doc-{n - 1}", "the last inserted row is its own nearest"
        catching_up = _search_p50(db, vectors[:CATCH_UP_SEARCHES])  # the graph is still being built
        db.wait_idle()  # until the worker has the whole load in the graph
        indexed = n / (time.perf_counter() - t0)
        steady = _search_p50(db, vectors[-STEADY_SEARCHES:])
        times = []
        for i in range(n, total):
            t = time.perf_counter_ns()
            db.insert(TABLE, rows[i], vector=vectors[i])
            times.append(time.perf_counter_ns() - t)
        db.close()
    return {"bulk_rows_s": bulk, "first_search_s": first, "catch_up_search_p50_ms": catching_up,
            "indexed_rows_s": indexed, "search_p50_ms": steady, "single_p50_us": statistics.median(times) / 1000}


def _search_p50(db: Any, queries: Any) -> float:
    """p50 in ms of searches for ``queries`` (top 10)."""
    from peers.systems.rem import TABLE

    times = []
    for query in queries:
        t = time.perf_counter()
        db.search(vector=query, schema=TABLE, top_k=10)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def run_in(pythonpath: str | None, n: int) -> dict[str, float]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, __file__, "--n", str(n), "--json"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--ab", help="src directory of the committed package copy (A); B is this tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.n)))
        return
    if not args.ab:
        print(json.dumps(measure(args.n)))
        return
    here = str(HERE.parent / "src")
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for name, path in (("old", args.ab), ("new", here)) if r % 2 == 0 else (("new", here), ("old", args.ab)):
            runs[name].append(run_in(path, args.n))
            print(name, runs[name][-1], Path("/proc/loadavg").read_text().split()[:3], flush=True)
    for key in ("bulk_rows_s", "first_search_s", "catch_up_search_p50_ms", "indexed_rows_s", "search_p50_ms",
                "single_p50_us"):
        if key not in runs["old"][0]:
            continue
        old = statistics.median(x[key] for x in runs["old"])
        new = statistics.median(x[key] for x in runs["new"])
        print(f"{key}: old {old:.4g}  new {new:.4g}  new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
