"""Database.query / explain / count(where=), the plan cache, AsyncDatabase and read-only handles."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
from query_helpers import ITEMS, item_rows, skus

from rem_db import AsyncDatabase, Database, QueryError


def test_count_with_where(shop: Database) -> None:
    assert shop.count("items") == 12
    assert shop.count("items", where="price > 2") == 7
    assert shop.count("items", where="price > ? AND category = ?", params=[2, "fruit"]) == 2
    assert shop.count("items", where="tags = :t", params={"t": "sweet"}) == 4
    assert shop.count("items", where="") == 12
    a1 = shop.query("SELECT id FROM items WHERE sku = 'A1'")[0]["id"]
    shop.delete(a1)
    assert shop.count("items", where="tags = 'sweet'") == 3
    assert shop.count("items", where="tags = 'sweet'", include_deleted=True) == 4
    with pytest.raises(QueryError, match="unknown column 'colour'"):
        shop.count("items", where="colour = 'red'")


def test_plans_are_cached_by_text(shop: Database) -> None:
    engine = shop._queries()
    text = "SELECT sku FROM items WHERE price > ? ORDER BY sku"
    first = skus(shop.query(text, [2]))
    parsed = engine.parse(text)
    hits = engine.cache.hits
    assert skus(shop.query(text, [9])) == ["F1", "H1"]
    assert engine.cache.hits == hits + 1 and engine.parse(text) is parsed
    assert first == ["A2", "D1", "E1", "F1", "G1", "H1", "K1"]


def test_plan_cache_is_bounded(shop: Database) -> None:
    engine = shop._queries()
    engine.cache.size = 5
    for i in range(20):
        shop.query(f"SELECT sku FROM items WHERE qty = {i}")
    assert len(engine.cache) == 5


def test_cached_plans_see_a_changed_schema(shop: Database) -> None:
    text = "SELECT sku FROM items WHERE colour = 'red'"
    with pytest.raises(QueryError, match="unknown column 'colour'"):
        shop.query(text)
    changed = copy.deepcopy(ITEMS)
    changed["version"] = "1.1.0"
    changed["properties"]["colour"] = {"type": "string"}
    shop.register_schema(changed)
    assert shop.query(text) == []
    shop.insert("items", {"sku": "Z1", "name": "Zucchini", "colour": "red"})
    assert skus(shop.query(text)) == ["Z1"]


def test_read_only_handle_queries(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.insert_batch("items", item_rows())
    with Database(tmp_path / "db", read_only=True) as ro:
        assert ro.query("SELECT COUNT(*) AS n FROM items WHERE price > 2") == [{"n": 7}]
        assert ro.count("items", where="category = 'fruit'") == 5


def test_async_database_mirrors_query_and_explain(tmp_path: Path) -> None:
    async def main() -> tuple[list[dict], dict]:
        async with AsyncDatabase(tmp_path / "db") as db:
            await db.register_schema(copy.deepcopy(ITEMS))
            await db.insert_batch("items", item_rows())
            rows = await db.query("SELECT sku FROM items WHERE qty = ?", [0])
            plan = await db.explain("SELECT sku FROM items WHERE qty = 0")
            return rows, plan

    rows, plan = asyncio.run(main())
    assert sorted(skus(rows)) == ["A2", "K1"] and plan["access"] == "index"


def test_query_results_are_independent_copies(shop: Database) -> None:
    rows = shop.query("SELECT * FROM items WHERE sku = 'A1'")
    rows[0]["name"] = "changed"
    assert shop.query("SELECT name FROM items WHERE sku = 'A1'") == [{"name": "Apple"}]


def test_builtin_tables_are_queryable(shop: Database) -> None:
    rows = shop.query("SELECT name, category FROM schemas WHERE name = 'items'")
    assert rows == [{"name": "items", "category": "user"}]
    assert shop.query("SELECT COUNT(*) AS n FROM moments") == [{"n": 0}]
