"""Foundation benchmarks (SPEC §16, issue "Foundation"): single insert, get by id, batch insert of 1,000,
lookup of 10 keys, open of a database holding 100k entities.

Run: ``python bench/bench_core.py [--rows 100000] [--runs 5]``. Prints one line per bar with the median of
``--runs`` runs (each run's own figure is a p50 over many operations, or one timed operation), and the
bar it is measured against. Writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rem_db import Database

SCHEMA = {
    "title": "product",
    "description": "Products with a code, a name, a price and a category.",
    "type": "object",
    "properties": {
        "product_code": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "category": {"type": "string"},
        "description": {"type": "string"},
    },
    "required": ["product_code", "name"],
    "key_field": "product_code",
    "indexed_fields": ["price", "category"],
}


def row(prefix: str, n: int) -> dict:
    return {"product_code": f"{prefix}-{n:07d}", "name": f"Product {n}", "price": round(n * 0.37, 2),
            "category": f"cat-{n % 20}", "description": "A sturdy item for everyday use. " * 6}


def p50_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def bench_single_and_get(db: Database, n: int, tag: str) -> tuple[float, float]:
    inserts, gets, ids = [], [], []
    for i in range(n):
        data = row(f"single{tag}", i)
        t0 = time.perf_counter()
        rec = db.insert("product", data)
        inserts.append(time.perf_counter() - t0)
        ids.append(rec["id"])
    for ident in ids:
        t0 = time.perf_counter()
        db.get(ident)
        gets.append(time.perf_counter() - t0)
    return p50_us(inserts), p50_us(gets)


def bench_batch(db: Database, tag: str) -> float:
    rows = [row(f"batch{tag}", i) for i in range(1000)]
    t0 = time.perf_counter()
    db.insert_batch("product", rows)
    return (time.perf_counter() - t0) * 1e3


def bench_sync_insert(path: Path, n: int = 300) -> float:
    """Single inserts with ``sync_writes=True`` (fsync per commit): the price of power-loss durability."""
    samples = []
    with Database(path, sync_writes=True) as db:
        for i in range(n):
            t0 = time.perf_counter()
            db.insert("product", row("sync", i))
            samples.append(time.perf_counter() - t0)
    return p50_us(samples)


def bench_lookup(db: Database, keys: list[str], repeats: int = 200) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        found = db.lookup_batch(keys)
        samples.append(time.perf_counter() - t0)
        assert all(found[k] for k in keys)
    return p50_us(samples)


def bench_open(path: Path) -> float:
    t0 = time.perf_counter()
    db = Database(path)
    assert db.lookup("bulk-0000001")  # the first answer from the opened handle
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="entities in the database for the open bench")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[float]] = {k: [] for k in ("insert", "get", "batch", "lookup", "open", "sync")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db"
        with Database(path) as db:
            db.register_schema(SCHEMA)
            for start in range(0, args.rows, 1000):
                db.insert_batch("product", [row("bulk", i) for i in range(start, min(start + 1000, args.rows))])
        for run in range(args.runs):
            with Database(path) as db:
                ins, get = bench_single_and_get(db, 2000, str(run))
                results["insert"].append(ins)
                results["get"].append(get)
                results["batch"].append(bench_batch(db, str(run)))
                keys = [f"bulk-{i:07d}" for i in range(0, args.rows, max(1, args.rows // 10))][:10]
                results["lookup"].append(bench_lookup(db, keys))
            results["open"].append(bench_open(path))
            results["sync"].append(bench_sync_insert(path))
    bars = [
        ("single insert, no embedding (p50)", "insert", "us", 200),
        ("get by id (p50)", "get", "us", 50),
        ("batch insert 1,000 entities, 2 indexed fields", "batch", "ms", 50),
        ("lookup of 10 keys (p50)", "lookup", "us", 1000),
        (f"open database with {args.rows:,} entities", "open", "ms", 300),
        ("single insert with fsync (P8_SYNC_WRITES), p50", "sync", "us", None),
    ]
    print(f"median of {args.runs} runs; database of {args.rows:,} product rows (5 fields, 2 indexed)")
    for label, key, unit, bar in bars:
        value = statistics.median(results[key])
        runs = ", ".join(f"{v:.1f}" for v in results[key])
        verdict = "(no bar)" if bar is None else f"bar < {bar} {unit}  {'PASS' if value < bar else 'FAIL'}"
        print(f"{label:48s} {value:9.1f} {unit:2s}  {verdict}   runs: {runs}")


if __name__ == "__main__":
    main()
