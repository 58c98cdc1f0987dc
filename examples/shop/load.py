"""Build the example shop database (products, suppliers, customers, orders, employees, guides, with edges)
through the public API. Used by `rem ask`'s tests, bench/bench_ask.py and docs/ask.md.

    python examples/shop/load.py ./shop-db          # then: rem --db-path ./shop-db ask "pots under 10 euros"

Order dates are stored relative to the time of loading (``placed_days_ago`` in data/orders.jsonl), so
questions such as "orders from the last week" keep their answers; every other date is absolute.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from rem_db import Database

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schemas"
DATA = HERE / "data"
#: tables in load order (edges are added once every row exists)
TABLES = ("products", "suppliers", "customers", "employees", "orders", "guides")


def _rows(table: str) -> list[dict[str, Any]]:
    lines = (DATA / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load(db: Database, now: dt.datetime | None = None) -> dict[str, int]:
    """Register the shop's schemas and insert its rows and edges into ``db``; returns rows per table."""
    now = now or dt.datetime.now(dt.UTC)
    for table in TABLES:
        db.register_schema(str(SCHEMAS / f"{table}.yaml"))
    prices = {row["product_code"]: row["price"] for row in _rows("products")}
    edges: list[tuple[str, str, str, dict[str, Any] | None]] = []
    counts: dict[str, int] = {}
    for table in TABLES:
        rows = []
        for raw in _rows(table):
            row = dict(raw)
            key = row[db.get_schema(table)["key_field"]]
            for rel, targets in row.pop("links", {}).items():
                edges.extend((key, target, rel, None) for target in targets)
            if table == "orders":
                items = row.pop("items")
                placed = now - dt.timedelta(days=row.pop("placed_days_ago"))
                row["placed_at"] = placed.replace(hour=10, minute=0, second=0, microsecond=0).isoformat()
                row["total"] = round(sum(prices[code] * qty for code, qty in items), 2)
                row["item_count"] = sum(qty for _, qty in items)
                edges.extend((key, code, "contains", {"quantity": qty}) for code, qty in items)
            rows.append(row)
        db.insert_batch(table, rows)
        counts[table] = len(rows)
    db.add_edges(edges)
    return counts


def build(path: str | Path, now: dt.datetime | None = None) -> Database:
    """A new database at ``path`` holding the shop (open read-write; the caller closes it)."""
    db = Database(path)
    try:
        load(db, now)
    except BaseException:
        db.close()
        raise
    return db


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/shop/load.py DB_PATH")
    with build(sys.argv[1]) as shop:
        print(json.dumps(shop.stats()["tables"], indent=2))
