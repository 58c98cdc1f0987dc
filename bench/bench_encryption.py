"""Encryption overhead (SPEC §16, issue "Encryption at rest"): the same operations on an encrypted database and
on a plaintext one, interleaved round by round in one process (bars: single and batch insert <= 1.25x, vector
search <= 1.25x, get by id <= 1.5x).

Run: ``python bench/bench_encryption.py [--runs 5] [--vectors 20000]``. Each round builds a fresh database of
each kind for the write figures (single insert p50 over 2,000 rows, get by id p50 over them, batch insert of
1,000 rows: median of 3 batches); search runs against one ``--vectors``-row database per kind with synthetic
384-d vectors (p50 of 200 top-10 searches, entity fetch included). Keys live in a temporary $P8_HOME.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_core import SCHEMA, bench_batch, bench_single_and_get
from bench_vectors import DIMS, clustered, make_db
from rem_db import Database

PASSWORD = "bench password"
SINGLE_ROWS = 2000


def writes(path: Path, password: str | None, tag: str) -> dict[str, float]:
    with Database(path, password=password) as db:
        db.register_schema(SCHEMA)
        single, get = bench_single_and_get(db, SINGLE_ROWS, tag)
        batch = statistics.median(bench_batch(db, f"{tag}-{n}") for n in range(3))
    return {"single insert p50 (us)": single, "get by id p50 (us)": get, "batch insert 1,000 (ms)": batch}


def search(path: Path, password: str | None, queries: np.ndarray) -> dict[str, float]:
    with Database(path, password=password, read_only=True) as db:
        db.search_vector(queries[0], "docs", top_k=10)  # waits for the index load
        samples = []
        for q in queries:
            t0 = time.perf_counter()
            hits = db.search_vector(q, "docs", top_k=10)
            samples.append(time.perf_counter() - t0)
            assert len(hits) == 10
    return {"vector search p50, top 10 with entities (ms)": statistics.median(samples) * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vectors", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rem-bench-crypto-"))
    os.environ["P8_HOME"] = str(root / "home")
    kinds = {"plain": None, "encrypted": PASSWORD}
    centres, rng = clustered(args.vectors, 7)
    queries = centres[rng.integers(0, 200, 200)] + 0.06 * rng.standard_normal((200, DIMS)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    for kind, password in kinds.items():
        make_db(root / f"vectors-{kind}", args.vectors, password=password)
    figures: dict[str, dict[str, list[float]]] = {kind: {} for kind in kinds}
    for run in range(args.runs):
        order = list(kinds.items()) if run % 2 == 0 else list(reversed(kinds.items()))
        for kind, password in order:
            got = writes(root / f"writes-{kind}-{run}", password, f"{kind}{run}")
            got.update(search(root / f"vectors-{kind}", password, queries))
            for name, value in got.items():
                figures[kind].setdefault(name, []).append(value)
    bars = {"single insert p50 (us)": 1.25, "batch insert 1,000 (ms)": 1.25,
            "vector search p50, top 10 with entities (ms)": 1.25, "get by id p50 (us)": 1.5}
    print(f"encrypted vs plaintext, {args.runs} interleaved rounds (medians); search over {args.vectors:,} x "
          f"{DIMS} vectors")
    for name, bar in bars.items():
        plain, enc = figures["plain"][name], figures["encrypted"][name]
        ratios = [e / p for e, p in zip(enc, plain, strict=True)]
        ratio = statistics.median(ratios)
        verdict = "PASS" if ratio <= bar else "FAIL"
        print(f"{name:48s} plain {statistics.median(plain):8.2f}  encrypted {statistics.median(enc):8.2f}  "
              f"ratio {ratio:.2f} (bar <= {bar})  {verdict}   ratios: " + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
