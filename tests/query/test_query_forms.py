"""The REM forms end to end: LOOKUP on the key index, SEARCH through Database.search (vector search with a
pre-filter), TRAVERSE through Database.traverse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from query_helpers import skus

from rem_db import Database, QueryError

NOTES: dict[str, Any] = {
    "title": "notes",
    "type": "object",
    "description": "Short notes, embedded for search.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}, "topic": {"type": "string"},
                   "year": {"type": "integer"}},
    "required": ["key", "body"],
    "indexed_fields": ["topic"],
    "embedding_fields": ["body"],
}
FACTS = [
    ("volcano", "Lava from the volcano flowed down the mountain into the sea.", "nature", 2001),
    ("bees", "Worker bees collect nectar and turn it into honey in the hive.", "nature", 2015),
    ("rail", "The high-speed train reached 320 km/h between Paris and Lyon.", "travel", 2019),
    ("ferry", "The night ferry crossed the channel in rough seas.", "travel", 1999),
    ("baking", "Knead the dough for ten minutes, then let the bread rise.", "food", 2020),
]
NODE: dict[str, Any] = {
    "title": "node", "type": "object", "description": "Graph nodes keyed by name.",
    "properties": {"name": {"type": "string"}}, "required": ["name"], "key_field": "name",
}


def test_lookup_finds_keys_across_tables(shop: Database) -> None:
    shop.register_schema(NODE)
    shop.insert("node", {"name": "Apple"})
    rows = shop.query("LOOKUP 'A1', 'Apple', 'nothing'")  # the item A1 is named Apple: returned once
    assert [(r["entity_type"], r.get("sku")) for r in rows] == [("items", "A1"), ("node", None)]
    assert skus(shop.query("lookup ?", ["B1"])) == ["B1"]
    assert shop.query("LOOKUP :k", {"k": "nothing"}) == []
    plan = shop.explain("LOOKUP 'A1'")
    assert plan["access"] == "key-index" and plan["steps"][0]["actual_rows"] == 1


def test_lookup_of_a_deleted_entity(shop: Database) -> None:
    a1 = shop.query("LOOKUP 'A1'")[0]
    shop.delete(a1["id"])
    assert shop.query("LOOKUP 'A1'") == []
    assert shop.query("LOOKUP 'A1'", include_deleted=True)[0]["id"] == a1["id"]


def test_lookup_keys_must_be_strings(shop: Database) -> None:
    with pytest.raises(QueryError, match="a LOOKUP key must be a string, got 5"):
        shop.query("LOOKUP ?", [5])


@pytest.fixture
def notes(tmp_path: Path) -> Any:
    with Database(tmp_path / "notes-db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [{"key": k, "body": b, "topic": t, "year": y} for k, b, t, y in FACTS])
        yield db


def test_search_runs_vector_search_with_a_pre_filter(notes: Database) -> None:
    rows = notes.query("SEARCH 'fast trains' IN notes LIMIT 2")
    assert rows[0]["key"] == "rail" and len(rows) == 2
    assert rows[0]["_score"] >= rows[1]["_score"] > 0
    filtered = notes.query("SEARCH 'boats on the water' IN notes WHERE topic = 'nature' LIMIT 5")
    assert {r["key"] for r in filtered} == {"volcano", "bees"}
    assert next(r["key"] for r in notes.query("SEARCH ? IN notes WHERE year > ? AND topic = ? LIMIT 3",
                                          ["sea voyage", 1990, "travel"])) == "ferry"
    named = notes.query("SEARCH :q IN notes WHERE year < :y", {"q": "honey", "y": 2016})
    assert named[0]["key"] == "bees" and {r["key"] for r in named} == {"bees", "volcano", "ferry"}
    injected = notes.query("SEARCH 'x' IN notes WHERE topic = ?", ["nature' OR '1'='1"])
    assert injected == []
    plan = notes.explain("SEARCH 'honey' IN notes WHERE topic = 'nature' LIMIT 1")
    assert plan["access"] == "vector" and plan["rows_returned"] == 1


def test_search_checks_its_table_and_condition(notes: Database) -> None:
    with pytest.raises(QueryError, match="unknown table 'nots'; did you mean 'notes'"):
        notes.query("SEARCH 'x' IN nots")
    with pytest.raises(QueryError) as info:
        notes.query("SEARCH 'x' IN notes WHERE yeer > 2000")
    assert "unknown column 'yeer'" in str(info.value) and info.value.column == 27
    with pytest.raises(QueryError, match="type mismatch: 'year' is an integer"):
        notes.query("SEARCH 'x' IN notes WHERE year > 'old'")


def _graph(db: Database) -> dict[str, str]:
    db.register_schema(NODE)
    ids = {r["name"]: r["id"] for r in db.insert_batch("node", [{"name": n} for n in "abcde"])}
    db.add_edges([(ids["a"], ids["b"], "knows"), (ids["b"], ids["c"], "knows"), (ids["c"], ids["d"], "likes"),
                  (ids["e"], ids["a"], "knows")])
    return ids


def test_traverse_walks_the_graph(db: Database) -> None:
    ids = _graph(db)
    one = db.query("TRAVERSE FROM 'a'")
    assert [(r["name"], r["_depth"]) for r in one] == [("b", 1)]
    assert one[0]["_path"] == [{"id": ids["b"], "rel_type": "knows"}]
    deep = db.query("TRAVERSE FROM 'a' DEPTH 3")
    assert [(r["name"], r["_depth"]) for r in deep] == [("b", 1), ("c", 2), ("d", 3)]
    typed = db.query("TRAVERSE FROM ? DEPTH 3 TYPE 'knows'", [ids["a"]])
    assert [r["name"] for r in typed] == ["b", "c"]
    several = db.query("TRAVERSE FROM 'a' DEPTH 3 TYPE 'knows', ?", ["likes"])
    assert [r["name"] for r in several] == ["b", "c", "d"]
    back = db.query("traverse from 'a' direction in")
    assert [r["name"] for r in back] == ["e"]
    both = db.query("TRAVERSE FROM 'a' DIRECTION both DEPTH 1")
    assert sorted(r["name"] for r in both) == ["b", "e"]
    assert len(db.query("TRAVERSE FROM 'a' DEPTH 3 LIMIT 2")) == 2
    assert db.explain("TRAVERSE FROM 'a' DEPTH 2")["access"] == "graph"


def test_traverse_depth_is_checked_when_bound(db: Database) -> None:
    _graph(db)
    with pytest.raises(QueryError, match="DEPTH must be an integer from 1 to 10, got 99"):
        db.query("TRAVERSE FROM 'a' DEPTH ?", [99])
    with pytest.raises(QueryError, match="DEPTH must be an integer from 1 to 10"):
        db.query("TRAVERSE FROM 'a' DEPTH 11")

