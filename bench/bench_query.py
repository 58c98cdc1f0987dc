"""Query engine benchmarks (SPEC §16, issue "Query engine"): indexed equality, indexed range, COUNT(*) GROUP BY
over an indexed field, a full scan with a non-indexed predicate, and the plan cache — each beside DuckDB
running the same SQL over the same rows held in memory.

Run: ``python bench/bench_query.py [--rows 100000] [--runs 5]``. Prints one line per bar: the median of
``--runs`` runs (a run's own figure is a p50 over many queries, or one timed query), the bar, DuckDB's
figure for the same query, and the machine's load average. Writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from rem_db import Database

SCHEMA = {
    "title": "product",
    "description": "Products with a code, a brand, a price, a category, a quantity and a description.",
    "type": "object",
    "properties": {
        "product_code": {"type": "string"},
        "name": {"type": "string"},
        "brand": {"type": "string"},
        "price": {"type": "number"},
        "category": {"type": "string"},
        "qty": {"type": "integer"},
        "rating": {"type": "number"},
        "description": {"type": "string"},
    },
    "required": ["product_code", "name"],
    "key_field": "product_code",
    "indexed_fields": ["brand", "price", "category"],
}
DUCK_COLUMNS = {"id": "VARCHAR", "product_code": "VARCHAR", "name": "VARCHAR", "brand": "VARCHAR",
                "price": "DOUBLE", "category": "VARCHAR", "qty": "BIGINT", "rating": "DOUBLE",
                "description": "VARCHAR", "created_at": "VARCHAR"}

EQUALITY = "SELECT * FROM product WHERE brand = ?"
RANGE = "SELECT * FROM product WHERE price BETWEEN ? AND ?"
GROUP = "SELECT category, COUNT(*) AS n FROM product GROUP BY category"
SCAN = "SELECT * FROM product WHERE qty > ?"  # qty is not indexed: ~1 % of the rows match
SCAN_LIKE = "SELECT * FROM product WHERE description LIKE ?"
PLAN = "SELECT product_code, price FROM product WHERE brand = ? AND price > ? ORDER BY price LIMIT 0"
EMPTY = "SELECT product_code, price FROM product WHERE brand = ? AND price > ? ORDER BY price LIMIT 10"


_texts = itertools.count()


def make_row(n: int, rng: random.Random, rows: int) -> dict[str, Any]:
    return {"product_code": f"P-{n:07d}", "name": f"Product {n}", "brand": f"brand-{rng.randrange(rows // 10):05d}",
            "price": round(rng.uniform(0, 1000), 2), "category": f"cat-{rng.randrange(20)}",
            "qty": rng.randrange(10_000), "rating": round(rng.uniform(1, 5), 2),
            "description": f"A sturdy item for everyday use, model {rng.randrange(10**6)}. " * 3}


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def load(path: Path, rows: int) -> tuple[Any, list[str]]:
    import duckdb

    rng = random.Random(7)
    fresh = not path.exists()  # a --path database is loaded once and reused
    with Database(path) as db:
        if fresh:
            db.register_schema(SCHEMA)
            for start in range(0, rows, 1000):
                db.insert_batch("product", [make_row(n, rng, rows) for n in range(start, min(start + 1000, rows))])
        entities = list(db.rows("product"))
    dump = path.parent / "rows.jsonl"
    dump.write_bytes(b"".join(orjson.dumps({k: e.get(k) for k in DUCK_COLUMNS}) + b"\n" for e in entities))
    con = duckdb.connect()  # in memory
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DUCK_COLUMNS.items()) + "}"
    con.execute(f"CREATE TABLE product AS SELECT * FROM read_json('{dump}', format = 'newline_delimited', "
                f"columns = {columns})")
    dump.unlink()
    brands = sorted({e["brand"] for e in entities})
    return con, brands


def run_once(db: Database, con: Any, brands: list[str], rng: random.Random) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}

    def pair(label: str, sql: str, params: list[list[Any]], check: Callable[[list[Any], list[Any]], None]) -> None:
        rem_s, duck_s = [], []
        for p in params:
            t, rem_rows = timed(lambda p=p: db.query(sql, p))
            rem_s.append(t)
            t, duck_rows = timed(lambda p=p: con.execute(sql, p).fetchall())
            duck_s.append(t)
            check(rem_rows, duck_rows)
        out[label] = (p50(rem_s), p50(duck_s))

    def same_count(a: list[Any], b: list[Any]) -> None:
        assert len(a) == len(b), (len(a), len(b))

    pair("equality", EQUALITY, [[rng.choice(brands)] for _ in range(300)], same_count)
    lows = [rng.uniform(0, 990) for _ in range(60)]
    pair("range", RANGE, [[lo, lo + 10] for lo in lows], same_count)
    pair("group", GROUP, [[] for _ in range(5)], same_count)
    pair("scan", SCAN, [[9899] for _ in range(3)], same_count)
    pair("scan_like", SCAN_LIKE, [["%model 12345.%"] for _ in range(3)], same_count)

    engine = db._queries()
    texts = [PLAN + f" OFFSET {next(_texts)}" for _ in range(200)]  # new texts: parsed, checked, planned
    misses = [timed(lambda text=text: db.query(text, ["x", 1]))[0] for text in texts]
    hits = [timed(lambda text=text, i=i: db.query(text, [f"brand-{i}", i]))[0] for _ in range(5)
            for i, text in enumerate(texts)]  # the same texts again, with other parameter values
    lookups = [timed(lambda: engine.parse(PLAN))[0] for _ in range(2000)]
    empty = [timed(lambda: db.query(EMPTY, ["no-such-brand", 1]))[0] for _ in range(2000)]
    out["empty"] = (p50(empty), p50([timed(lambda: con.execute(EMPTY, ["no-such-brand", 1]).fetchall())[0]
                                     for _ in range(200)]))
    out["plan_miss"] = (p50(misses), float("nan"))
    out["plan_hit"] = (p50(hits), float("nan"))
    out["plan_lookup"] = (p50(lookups), float("nan"))
    return out


def _mirror_bytes(db: Database) -> int | None:
    """Bytes of the columnar mirrors the queries built (None: code without the mirror)."""
    try:
        from rem_db.query import mirror
    except ImportError:
        return None
    return mirror.memory(db._core.entities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", type=Path, default=None,
                        help="keep the database here and reuse it on the next run (A/B runs of two code versions)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "db"
        t0 = time.perf_counter()
        con, brands = load(path, args.rows)
        loaded = time.perf_counter() - t0
        rng = random.Random(11)
        with Database(path, read_only=True) as db:  # one long-lived handle, as an application holds
            run_once(db, con, brands, random.Random(3))  # warm-up: block cache, page cache, lazy imports
            for _ in range(args.runs):
                for key, value in run_once(db, con, brands, rng).items():
                    results.setdefault(key, []).append(value)
            plan = {q: db.explain(sql, p)["access"] for q, sql, p in (
                ("equality", EQUALITY, [brands[0]]), ("range", RANGE, [100, 110]), ("group", GROUP, None),
                ("scan", SCAN, [9899]), ("scan_like", SCAN_LIKE, ["%model 12345.%"]))}
            mirror_bytes = _mirror_bytes(db)
    bars = [
        ("indexed equality, ~10 rows (p50)", "equality", "ms", 2.0),
        ("indexed range, ~1,000 rows (p50)", "range", "ms", 15.0),
        ("COUNT(*) GROUP BY indexed field (20 groups)", "group", "ms", 150.0),
        ("full scan, non-indexed predicate (qty > n, 1 %)", "scan", "ms", 400.0),
        ("full scan, LIKE '%…%' on a text field", "scan_like", "ms", 400.0),
        ("cached plan: lookup+bind+check (LIMIT 0, p50)", "plan_hit", "us", 20.0),
        ("  of which the plan cache lookup (p50)", "plan_lookup", "us", None),
        ("new text: parse+check+bind (LIMIT 0, p50)", "plan_miss", "us", None),
        ("cached plan, indexed query with no match (p50)", "empty", "us", None),
    ]
    load_after = os.getloadavg()
    print(f"{args.rows:,} rows (8 fields, 3 indexed) loaded in {loaded:.1f} s; median of {args.runs} runs; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"access paths: {plan}")
    if mirror_bytes is not None:
        print(f"columnar mirror: {mirror_bytes:,} bytes ({mirror_bytes / args.rows:.0f} bytes per row)")
    for label, key, unit, bar in bars:
        scale = 1e3 if unit == "ms" else 1e6
        rem = [r * scale for r, _ in results[key]]
        duck = [d * scale for _, d in results[key]]
        value = statistics.median(rem)
        verdict = "(no bar)" if bar is None else f"bar < {bar:g} {unit} {'PASS' if value < bar else 'FAIL'}"
        duck_text = "" if all(d != d for d in duck) else f"DuckDB {statistics.median(duck):8.2f} {unit}"
        runs = ", ".join(f"{v:.2f}" for v in rem)
        print(f"{label:50s} REM {value:9.2f} {unit:2s}  {verdict:22s} {duck_text:22s} runs: {runs}")


if __name__ == "__main__":
    main()
