"""Write-side figures of issue 20 (item 3): bulk load rows/s with precomputed vectors, time from the end of
the load to the first answered search, and single insert p50 with a vector.

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

HERE = Path(__file__).resolve().parent
BATCH = 10_000
SINGLES = 2_000


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
        t0 = time.perf_counter()
        hits = db.search(vector=vectors[n - 1], schema=TABLE, top_k=10)
        first = time.perf_counter() - t0
        assert hits and hits[0][0]["doc_id"] == f"doc-{n - 1}", "the last inserted row is its own nearest"
        times = []
        for i in range(n, total):
            t = time.perf_counter_ns()
            db.insert(TABLE, rows[i], vector=vectors[i])
            times.append(time.perf_counter_ns() - t)
        db.close()
    return {"bulk_rows_s": bulk, "first_search_s": first, "single_p50_us": statistics.median(times) / 1000}


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
    for key in ("bulk_rows_s", "first_search_s", "single_p50_us"):
        old = statistics.median(x[key] for x in runs["old"])
        new = statistics.median(x[key] for x in runs["new"])
        print(f"{key}: old {old:.4g}  new {new:.4g}  new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
