"""Index-aware planning, seen through EXPLAIN: which access path runs, estimated vs actual rows, and that
every path returns what a scan returns."""

from __future__ import annotations

from typing import Any

import pytest
from query_helpers import skus

from rem_db import Database
from rem_db.query import planner


def access(db: Database, text: str, params: Any = None) -> str:
    return db.explain(text, params)["access"]


@pytest.mark.parametrize(("condition", "path"), [
    ("price = 2.25", "index"),
    ("category IN ('fruit', 'drink')", "index"),
    ("price > 3", "index"),
    ("price BETWEEN 1 AND 2", "index"),
    ("released >= '2024-06-01'", "index"),
    ("created_at > '2000-01-01'", "index"),
    ("modified_at < '2999-01-01'", "index"),
    ("deleted_at IS NULL", "index"),
    ("category IS NULL", "index"),
    ("category IS NOT NULL", "index"),
    ("category LIKE 'fr%'", "index"),
    ("tags = 'sweet'", "index"),
    ("price > 1 AND note = 'crisp'", "index"),  # the indexed part narrows, the rest filters
    ("category = 'fruit' OR price > 9", "index"),  # a union of two index reads
    ("category = 'fruit' OR note = 'crisp'", "scan"),  # one branch has no index: scan
    ("note = 'crisp'", "scan"),
    ("name LIKE 'A%'", "scan"),  # name is not indexed
    ("NOT (price > 3)", "scan"),
    ("price != 3", "scan"),
    ("category ILIKE 'FR%'", "scan"),
    ("tags IS NOT NULL", "scan"),  # [] is indexed like NULL, so the index cannot answer IS NOT NULL
])
def test_access_path_by_predicate(shop: Database, condition: str, path: str) -> None:
    text = f"SELECT sku FROM items WHERE {condition}"
    assert access(shop, text) == path, shop.explain(text)["steps"]


def test_index_and_scan_give_the_same_rows(shop: Database) -> None:
    for condition in ("price = 2.25", "category IN ('fruit', 'drink')", "price > 3", "price BETWEEN 1 AND 2",
                      "released >= '2024-06-01'", "category IS NULL", "category LIKE 'fr%'", "tags = 'sweet'",
                      "price > 1 AND category = 'fruit'", "category = 'fruit' OR price > 9", "qty IN (0, 40)"):
        indexed = f"SELECT sku FROM items WHERE {condition}"
        scanned = f"SELECT sku FROM items WHERE ({condition}) AND (note IS NULL OR note IS NOT NULL)"
        forced = f"SELECT sku FROM items WHERE ({condition}) OR note = 'no such note'"
        assert access(shop, indexed) == "index" and access(shop, forced) == "scan"
        assert sorted(skus(shop.query(indexed))) == sorted(skus(shop.query(forced))) == sorted(
            skus(shop.query(scanned))), condition


def test_explain_reports_estimated_and_actual_rows(shop: Database) -> None:
    plan = shop.explain("SELECT sku FROM items WHERE price > 2 AND active")
    assert plan["access"] == "index" and plan["table"] == "items" and plan["statement"] == "select"
    read, filt = plan["steps"][:2]
    assert read["operation"] == "index read" and read["detail"] == "price > 2"
    assert read["estimated_rows"] == 7 and read["actual_rows"] == 7
    assert filt["operation"] == "filter" and filt["actual_rows"] == 4  # D1 F1 G1 H1
    assert plan["rows_returned"] == 4 and plan["estimated_rows"] == 7 and plan["time_ms"] >= 0
    scan = shop.explain("SELECT sku FROM items WHERE note = 'crisp'")
    assert scan["steps"][0]["operation"] == "table scan"
    assert scan["steps"][0]["estimated_rows"] == 12 and scan["steps"][0]["actual_rows"] == 12
    assert scan["rows_returned"] == 1


def test_explain_as_a_query_returns_the_steps(shop: Database) -> None:
    rows = shop.query("EXPLAIN SELECT sku FROM items WHERE price > 2 ORDER BY sku LIMIT 2")
    assert [r["operation"] for r in rows] == ["index read", "filter", "sort", "limit"]
    assert {r["access"] for r in rows} == {"index"}
    assert rows[-1]["actual_rows"] == 2


def test_and_intersects_and_leaves_big_parts_to_the_filter(shop: Database) -> None:
    plan = shop.explain("SELECT sku FROM items WHERE price = 2.25 AND qty = 0")
    assert plan["steps"][0]["detail"] == "price = 2.25 AND qty = 0" and plan["steps"][0]["estimated_rows"] == 2
    plan = shop.explain("SELECT sku FROM items WHERE price = 2.25 AND released > '2000-01-01'")
    assert "left to the filter: released > '2000-01-01'" not in plan["steps"][0]["detail"]  # small tables
    assert skus(shop.query("SELECT sku FROM items WHERE price = 2.25 AND qty = 0 ORDER BY sku")) == ["A2", "K1"]


def test_or_unions_index_reads(shop: Database) -> None:
    plan = shop.explain("SELECT sku FROM items WHERE category = 'drink' OR price > 12")
    assert plan["steps"][0]["detail"] == "category = 'drink' OR price > 12"
    assert plan["steps"][0]["estimated_rows"] == 2
    nested = shop.explain("SELECT sku FROM items WHERE (category = 'drink' OR price > 12) AND qty < 5")
    assert nested["steps"][0]["detail"] == "qty < 5 AND (category = 'drink' OR price > 12)"  # cheapest first
    assert sorted(skus(shop.query("SELECT sku FROM items WHERE category = 'drink' OR price > 12"))) == ["F1", "H1"]


def test_id_lookup_reads_only_those_rows(shop: Database) -> None:
    ids = {r["sku"]: r["id"] for r in shop.query("SELECT sku, id FROM items")}
    text = f"SELECT sku FROM items WHERE id IN ('{ids['A1']}', '{ids['B1']}', 'not-a-uuid')"
    plan = shop.explain(text)
    assert plan["access"] == "index" and plan["steps"][0]["estimated_rows"] == 2
    assert sorted(skus(shop.query(text))) == ["A1", "B1"]
    shop.register_schema({"title": "other", "type": "object", "description": "Another table.",
                          "properties": {"x": {"type": "integer"}}})
    other = shop.insert("other", {"x": 1})
    assert shop.query(f"SELECT * FROM items WHERE id = '{other['id']}'") == []  # an id of another table
    assert shop.query(f"SELECT COUNT(*) AS n FROM items WHERE id = '{other['id']}'") == [{"n": 0}]
    shop.delete(ids["A1"])
    assert shop.query(f"SELECT COUNT(*) AS n FROM items WHERE id IN ('{ids['A1']}', '{ids['B1']}')") == [{"n": 1}]


def test_boolean_ranges_on_an_indexed_field(db: Database) -> None:
    db.register_schema({"title": "flags", "type": "object", "description": "Booleans.",
                        "properties": {"n": {"type": "integer"}, "lit": {"type": "boolean"}},
                        "indexed_fields": ["lit"]})
    db.insert_batch("flags", [{"n": 1, "lit": True}, {"n": 2, "lit": False}, {"n": 3}])
    assert [r["n"] for r in db.query("SELECT n FROM flags WHERE lit > FALSE")] == [1]
    assert [r["n"] for r in db.query("SELECT n FROM flags WHERE lit BETWEEN FALSE AND TRUE ORDER BY n")] == [1, 2]
    assert [r["n"] for r in db.query("SELECT n FROM flags WHERE lit = TRUE")] == [1]
    assert db.explain("SELECT n FROM flags WHERE lit = TRUE")["access"] == "index"
    assert [r["n"] for r in db.query("SELECT n FROM flags ORDER BY lit DESC, n LIMIT 3")] == [1, 2, 3]


def test_entity_type_is_answered_by_the_table_name(shop: Database) -> None:
    other = shop.explain("SELECT sku FROM items WHERE entity_type = 'notes' AND note IS NULL")
    assert other["access"] == "index" and other["steps"][0]["estimated_rows"] == 0 and other["rows_returned"] == 0
    assert shop.query("SELECT COUNT(*) AS n FROM items WHERE entity_type IN ('a', 'b')") == [{"n": 0}]
    assert shop.explain("SELECT sku FROM items WHERE entity_type = 'items'")["access"] == "scan"
    assert shop.query("SELECT COUNT(*) AS n FROM items WHERE entity_type = 'items'") == [{"n": 12}]


def test_order_by_indexed_field_with_limit_stops_early(shop: Database) -> None:
    text = "SELECT sku FROM items ORDER BY price DESC LIMIT 2"
    plan = shop.explain(text)
    assert plan["access"] == "index-order"
    walk = plan["steps"][0]
    assert walk["operation"] == "index order" and walk["actual_rows"] < 12
    assert skus(shop.query(text)) == ["F1", "H1"]
    # ties on the first key are completed before cutting, then ordered by the next key
    assert skus(shop.query("SELECT sku FROM items ORDER BY price, sku DESC LIMIT 5")) == ["B1", "C1", "L1", "A1",
                                                                                         "K1"]
    assert skus(shop.query("SELECT sku FROM items ORDER BY price NULLS FIRST LIMIT 1")) == ["C2"]
    assert skus(shop.query("SELECT sku FROM items ORDER BY price LIMIT 2 OFFSET 10")) == ["F1", "C2"]
    assert skus(shop.query("SELECT sku FROM items WHERE active ORDER BY released LIMIT 2")) == ["B1", "A1"]
    assert shop.explain("SELECT sku FROM items ORDER BY created_at DESC LIMIT 3")["access"] == "index-order"
    assert shop.explain("SELECT sku FROM items ORDER BY tags LIMIT 3")["access"] == "scan"  # a list field
    assert shop.explain("SELECT sku FROM items ORDER BY name LIMIT 3")["access"] == "scan"  # not indexed


def test_order_by_with_a_selective_index_sorts_the_candidates(shop: Database) -> None:
    plan = shop.explain("SELECT sku FROM items WHERE category = 'drink' ORDER BY price LIMIT 1")
    assert plan["access"] == "index"
    assert [s["operation"] for s in plan["steps"]] == ["index read", "filter", "sort", "limit"]


def test_count_star_from_index_keys(shop: Database) -> None:
    plan = shop.explain("SELECT category, COUNT(*) AS n FROM items GROUP BY category")
    assert plan["access"] == "index-count" and plan["steps"][0]["operation"] == "index count"
    counts = {r["category"]: r["n"] for r in shop.query("SELECT category, COUNT(*) AS n FROM items GROUP BY category")}
    assert counts == {"fruit": 5, "vegetable": 4, "dried": 1, "drink": 1, None: 1}
    assert access(shop, "SELECT COUNT(*) FROM items") == "count-table"
    assert access(shop, "SELECT COUNT(*) FROM items WHERE price > 2") == "index-count"
    assert shop.query("SELECT COUNT(*) AS n FROM items WHERE price > 2") == [{"n": 7}]
    assert access(shop, "SELECT qty, COUNT(*) FROM items WHERE category = 'fruit' GROUP BY qty") == "index-count"
    by_qty = shop.query("SELECT qty, COUNT(*) AS n FROM items WHERE category = 'fruit' GROUP BY qty ORDER BY qty")
    assert by_qty == [{"qty": q, "n": 1} for q in (0, 10, 15, 25, 30)]
    # not answerable from index keys alone: a list field, a non-exact condition, another aggregate
    assert access(shop, "SELECT COUNT(*) FROM items WHERE tags = 'sweet'") == "index"
    assert access(shop, "SELECT COUNT(*) FROM items WHERE category LIKE 'f%'") == "index"
    assert access(shop, "SELECT category, SUM(qty) FROM items GROUP BY category") == "scan"
    assert access(shop, "SELECT tags, COUNT(*) FROM items GROUP BY tags") == "scan"


def test_index_cap_falls_back_to_a_scan(shop: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "CAP", 3)
    text = "SELECT sku FROM items WHERE price > 1"
    plan = shop.explain(text)
    assert plan["access"] == "scan"
    assert sorted(skus(shop.query(text))) == ["A1", "A2", "D1", "E1", "F1", "G1", "H1", "K1"]


def test_limit_zero_reads_nothing(shop: Database) -> None:
    plan = shop.explain("SELECT * FROM items LIMIT 0")
    assert plan["access"] == "none" and plan["rows_returned"] == 0


def test_unordered_limit_stops_reading(shop: Database) -> None:
    plan = shop.explain("SELECT sku FROM items WHERE note IS NULL LIMIT 2")
    assert plan["steps"][0]["actual_rows"] < 12 and plan["rows_returned"] == 2


def test_plans_follow_schema_changes(shop: Database) -> None:
    text = "SELECT sku FROM items WHERE note = 'crisp'"
    assert access(shop, text) == "scan"
    from query_helpers import ITEMS

    changed = {**ITEMS, "version": "1.1.0", "indexed_fields": [*ITEMS["indexed_fields"], "note"]}
    shop.register_schema(changed)
    assert access(shop, text) == "index"
    assert skus(shop.query(text)) == ["A1"]
