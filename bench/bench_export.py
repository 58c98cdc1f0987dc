"""Export benchmarks (SPEC §16, issue "Documents and export"): Parquet export of 100k rows with 6 typed user
columns (bar < 1 s), the same with a 384-d embedding column (bar < 2 s), and, for reference, CSV and JSONL.

Run: ``python bench/bench_export.py [--rows 100000] [--runs 5] [--formats parquet,csv,jsonl]``. Prints one line
per measurement: the median of ``--runs`` exports (each `Database.export` end to end: reading the rows from
RocksDB, converting, writing the file), every run, the file size and the load average (the machine is
shared); and, as a floor, the time to read the same rows with ``Database.rows``. Vectors are synthetic unit
vectors written straight into the embeddings column family (the real model embeds ~100 texts/s). Writes
nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from rem_db import Database

SPEC = "local:all-MiniLM-L6-v2"
DIMS = 384
PROPERTIES = {
    "name": {"type": "string"},
    "qty": {"type": "integer"},
    "price": {"type": "number"},
    "active": {"type": "boolean"},
    "released_at": {"type": "string", "format": "date-time"},
    "tags": {"type": "array", "items": {"type": "string"}},
}


def schema(title: str, embedded: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title, "type": "object", "properties": PROPERTIES, "key_field": "name",
                           "description": f"Export benchmark rows ({title})."}
    if embedded:
        out["embedding_fields"] = ["name"]
    return out


def make_row(n: int, rng: random.Random) -> dict[str, Any]:
    return {"name": f"item {n:07d}", "qty": rng.randrange(10_000), "price": round(rng.uniform(0, 1000), 2),
            "active": rng.random() < 0.5,
            "released_at": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
                           f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
            "tags": [f"t{rng.randrange(50)}" for _ in range(rng.randrange(4))]}


def load(db: Database, table: str, rows: int, embedded: bool) -> None:
    db.register_schema(schema(table, embedded))
    rng = random.Random(7)
    nprng = np.random.default_rng(7)
    engine = db._engine
    for start in range(0, rows, 1000):
        batch_rows = [make_row(n, rng) for n in range(start, min(rows, start + 1000))]
        if not embedded:
            db.insert_batch(table, batch_rows)
            continue
        written = engine.put_many(table, batch_rows, embed_mode="lazy")
        vecs = nprng.standard_normal((len(written), DIMS)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with engine.lock:
            batch = engine.store.batch()
            for row, vec in zip(written, vecs, strict=True):
                db._vectors.put(batch, table, SPEC, uuid.UUID(row["id"]).bytes, vec)
            db._vectors.record(batch, table, SPEC, DIMS)
            engine.commit(batch)
        db._embedder._recorded.clear()


def measure(db: Database, table: str, out: Path, fmt: str, runs: int, embeddings: bool) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        summary = db.export(table, output=out / f"{table}.{fmt}", with_embeddings=embeddings)
        times.append(time.perf_counter() - t0)
        size = summary["bytes"]
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default="parquet,csv,jsonl")
    args = parser.parse_args()
    os.environ.setdefault("P8_LOG_LEVEL", "WARNING")
    formats = args.formats.split(",")
    with tempfile.TemporaryDirectory(prefix="rem-bench-export-") as tmp:
        path, out = Path(tmp) / "db", Path(tmp) / "out"
        out.mkdir()
        t0 = time.perf_counter()
        with Database(path) as db:
            load(db, "plain", args.rows, embedded=False)
            load(db, "embedded", args.rows, embedded=True)
        print(f"loaded 2 x {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")
        with Database(path, read_only=True) as db:
            reads = []
            for _ in range(args.runs):  # reference: reading the rows alone, the floor of any export
                t0 = time.perf_counter()
                n = sum(1 for _ in db.rows("plain"))
                reads.append(time.perf_counter() - t0)
            print(f"reference: reading the {n:,} rows (Database.rows): median {statistics.median(reads):.3f} s; "
                  f"runs {', '.join(f'{t:.3f}' for t in reads)}; load avg {os.getloadavg()[0]:.2f}")
            cases = [(fmt, "plain", False) for fmt in formats] + [("parquet", "embedded", True)]
            for fmt, table, embeddings in cases:
                load_before = os.getloadavg()[0]
                times, size = measure(db, table, out, fmt, args.runs, embeddings)
                bar = {("parquet", False): "< 1 s", ("parquet", True): "< 2 s"}.get((fmt, embeddings), "-")
                label = f"{fmt}, {args.rows:,} rows, 6 typed columns" + (f" + {DIMS}-d embedding" if embeddings
                                                                        else "")
                runs = ", ".join(f"{t:.3f}" for t in times)
                print(f"{label}: median {statistics.median(times):.3f} s (bar {bar}); runs {runs}; "
                      f"file {size / 1e6:.1f} MB; load avg {load_before:.2f}")


if __name__ == "__main__":
    main()
