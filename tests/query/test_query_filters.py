"""QueryEngine.filter: the agreed interface vector search uses for pre-filtering."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rem_db import Database, QueryError
from rem_db.query.filters import BoundWhere, Filter
from rem_db.query.parse import parse


def compile_filter(db: Database, table: str, where: str | None, params: Any = None) -> Filter:
    """The filter the search engine gets: compiled by the database's query engine."""
    return db._queries().filter(table, where, params)


def _ids(db: Database, condition: str) -> set[bytes]:
    return {uuid.UUID(r["id"]).bytes for r in db.query(f"SELECT id FROM items WHERE {condition}")}


def test_matches_and_candidate_ids(shop: Database) -> None:
    flt = compile_filter(shop, "items", "price > ? AND tags = 'sweet'", [1])
    rows = list(shop.rows("items"))
    assert {r["sku"] for r in rows if flt.matches(r)} == {"A1", "D1", "F1"}
    candidates = flt.candidate_ids()
    assert candidates is not None and candidates >= _ids(shop, "price > 1 AND tags = 'sweet'")
    assert flt.table == "items" and "price > 1" in flt.where


def test_no_index_means_no_candidates(shop: Database) -> None:
    flt = compile_filter(shop, "items", "note = 'crisp'")
    assert flt.candidate_ids() is None
    assert [r["sku"] for r in shop.rows("items") if flt.matches(r)] == ["A1"]


def test_empty_condition_matches_everything(shop: Database) -> None:
    for where in (None, "", "   "):
        flt = compile_filter(shop, "items", where)
        assert flt.candidate_ids() is None and all(flt.matches(r) for r in shop.rows("items"))


def test_named_params_and_three_valued_logic(shop: Database) -> None:
    flt = compile_filter(shop, "items", "NOT (category = :c)", {"c": "fruit"})
    kept = {r["sku"] for r in shop.rows("items") if flt.matches(r)}
    assert kept == {"C1", "C2", "E1", "F1", "H1", "K1"}  # D1 has a NULL category: UNKNOWN is not a match


def test_bound_where_is_used_without_reparsing(shop: Database) -> None:
    stmt = parse("SELECT * FROM items WHERE category = 'fruit' AND price < 2").statement
    bound = BoundWhere("category = 'fruit' AND price < 2", stmt.where)
    flt = compile_filter(shop, "items", bound)
    assert {r["sku"] for r in shop.rows("items") if flt.matches(r)} == {"A1", "B1", "L1"}
    assert str(bound) == "category = 'fruit' AND price < 2" and isinstance(bound, str)


def test_errors(shop: Database) -> None:
    with pytest.raises(QueryError, match="unknown column 'colour'"):
        compile_filter(shop, "items", "colour = 'red'")
    with pytest.raises(QueryError, match="unknown table 'nope'"):
        compile_filter(shop, "nope", "a = 1")
    with pytest.raises(QueryError, match=r"syntax error.*line 1, column"):
        compile_filter(shop, "items", "price >")
    with pytest.raises(QueryError, match="ORDER BY is not allowed in a WHERE condition"):
        compile_filter(shop, "items", "price > 1 ORDER BY price")
    with pytest.raises(QueryError, match="no value for parameter :p"):
        compile_filter(shop, "items", "price > :p", {})


def test_candidates_of_a_big_unselective_range_are_capped(db: Database) -> None:
    from rem_db.query import planner

    db.register_schema({"title": "nums", "type": "object", "description": "Numbers.",
                        "properties": {"n": {"type": "integer"}}, "indexed_fields": ["n"]})
    db.insert_batch("nums", [{"n": i} for i in range(50)])
    original = planner.CAP
    try:
        planner.CAP = 10
        assert compile_filter(db, "nums", "n >= 0").candidate_ids() is None
        assert len(compile_filter(db, "nums", "n < 5").candidate_ids() or ()) == 5
    finally:
        planner.CAP = original
