"""Undeclared fields are columns (issue 18, item 10): SQL WHERE / SELECT / ORDER BY / GROUP BY, dotted paths
into undeclared objects and search ``where=`` read them, NULL in rows that lack them. A name that no row of
the table has ever had stays an ``unknown column`` (a typo is an error, not an empty result); so does every
undeclared name of a table whose schema sets ``additional_properties: false``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database, QueryError

PLANTS: dict[str, Any] = {
    "title": "plants",
    "type": "object",
    "description": "Plants with free-form metadata beside two declared fields.",
    "properties": {"name": {"type": "string"}, "category": {"type": "string"}},
    "required": ["name"],
    "key_field": "name",
    "indexed_fields": ["category"],
}
ROWS = [
    {"name": "fern", "category": "shade", "colour": "green", "height": 40, "origin": {"country": "NZ", "alt": 300}},
    {"name": "cactus", "category": "sun", "colour": "green", "height": 25, "origin": {"country": "MX"}},
    {"name": "rose", "category": "sun", "colour": "red", "height": 80},
    {"name": "moss", "category": "shade"},
]


@pytest.fixture
def plants(db: Database) -> Database:
    db.register_schema(copy.deepcopy(PLANTS))
    db.insert_batch("plants", copy.deepcopy(ROWS))
    return db


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


def test_where_select_order_and_group_by_read_undeclared_fields(plants: Database) -> None:
    assert names(plants.query("SELECT name FROM plants WHERE colour = 'green' ORDER BY name")) == ["cactus", "fern"]
    assert plants.query("SELECT name, height FROM plants WHERE height > 30 ORDER BY height DESC") == [
        {"name": "rose", "height": 80}, {"name": "fern", "height": 40}]
    assert names(plants.query("SELECT name FROM plants ORDER BY height")) == ["cactus", "fern", "rose", "moss"]
    assert names(plants.query("SELECT name FROM plants WHERE colour IS NULL")) == ["moss"]  # a row without it
    assert plants.query("SELECT colour, COUNT(*) AS n, MAX(height) AS top FROM plants GROUP BY colour "
                        "ORDER BY n DESC, colour") == [{"colour": "green", "n": 2, "top": 40},
                                                      {"colour": "red", "n": 1, "top": 80},
                                                      {"colour": None, "n": 1, "top": None}]
    # dotted paths into an undeclared object, as into a declared one
    assert plants.query("SELECT name, origin.country FROM plants WHERE origin.alt >= 100") == [
        {"name": "fern", "origin.country": "NZ"}]
    assert names(plants.query("SELECT name FROM plants WHERE origin.country IN ('MX', 'NZ') AND category = 'sun'"
                              )) == ["cactus"]
    assert plants.query("SELECT SUM(height) AS s FROM plants WHERE category = 'sun'") == [{"s": 105}]
    assert plants.count("plants", where="colour LIKE 'gr%'") == 2
    assert plants.query("SELECT * FROM plants WHERE name = 'rose'")[0]["colour"] == "red"


def test_a_name_no_row_ever_had_is_an_unknown_column(plants: Database) -> None:
    with pytest.raises(QueryError) as info:
        plants.query("SELECT name FROM plants WHERE cateogry = 'sun'")
    assert str(info.value).startswith("unknown column 'cateogry' in table 'plants'; did you mean 'category'? (no "
                                      "row of the table has had a field of that name)")
    assert info.value.column == 31
    with pytest.raises(QueryError, match="unknown column 'color' in table 'plants'; did you mean 'colour'"):
        plants.count("plants", where="color = 'red'")  # undeclared names are suggested too
    with pytest.raises(QueryError, match=r"unknown column 'zzz' .*\(columns: name, category, .*colour"):
        plants.query("SELECT zzz FROM plants")
    # once a row has the field, it is a column (the failed plan was not cached)
    plants.insert("plants", {"name": "ivy", "cateogry": "typo kept as data"})
    assert names(plants.query("SELECT name FROM plants WHERE cateogry = 'typo kept as data'")) == ["ivy"]


def test_ever_had_survives_deletes_and_reopening(plants: Database, db_path: Path) -> None:
    rose = plants.query("SELECT id FROM plants WHERE name = 'rose'")[0]["id"]
    plants.insert("plants", {"name": "tulip", "vase": True})
    plants.delete(plants.query("SELECT id FROM plants WHERE name = 'tulip'")[0]["id"], hard=True)
    plants.update(rose, {"colour": None})
    plants.close()
    with Database(db_path, read_only=True) as db:
        assert db.query("SELECT name FROM plants WHERE vase = TRUE") == []  # ever had: a column, NULL now
        assert names(db.query("SELECT name FROM plants WHERE colour = 'green' ORDER BY name")) == ["cactus", "fern"]
        with pytest.raises(QueryError, match="unknown column 'vaze'"):
            db.query("SELECT name FROM plants WHERE vaze = TRUE")


def test_a_dropped_table_forgets_its_fields(plants: Database) -> None:
    plants.remove_schema("plants")
    plants.register_schema(copy.deepcopy(PLANTS))
    plants.insert("plants", {"name": "fern"})
    with pytest.raises(QueryError, match="unknown column 'colour'"):
        plants.query("SELECT name FROM plants WHERE colour = 'green'")


def test_additional_properties_schema_types_the_undeclared_fields(db: Database) -> None:
    db.register_schema({**copy.deepcopy(PLANTS), "additionalProperties": {"type": "integer"}})
    db.insert("plants", {"name": "fern", "height": 40})
    assert names(db.query("SELECT name FROM plants WHERE height > 10")) == ["fern"]
    with pytest.raises(QueryError, match="type mismatch: 'height' is an integer"):
        db.query("SELECT name FROM plants WHERE height = 'tall'")


def test_a_closed_table_keeps_unknown_columns_errors(db: Database) -> None:
    db.register_schema({**copy.deepcopy(PLANTS), "additional_properties": False})
    db.insert("plants", {"name": "fern"})
    with pytest.raises(QueryError, match=r"unknown column 'colour' in table 'plants' .*additional_properties: false"):
        db.query("SELECT name FROM plants ORDER BY colour")


def test_tables_from_before_field_names_were_recorded_read_their_rows(plants: Database, db_path: Path) -> None:
    """A database written by an older version has no record of field names: undeclared fields are found by
    reading the rows (simulated here by removing the record)."""
    store, ks = plants._store, plants._keyspace
    start = ks.field_names("plants")
    batch = store.batch()
    for key in list(store.scan_keys("meta", start, start + b"\xff" * 8)):
        batch.delete("meta", key)
    store.write(batch)
    plants.close()
    with Database(db_path) as db:
        assert names(db.query("SELECT name FROM plants WHERE colour = 'red'")) == ["rose"]
        assert db.query("SELECT name FROM plants WHERE origin.country = 'NZ'") == [{"name": "fern"}]
        with pytest.raises(QueryError, match="unknown column 'cateogry'"):
            db.query("SELECT name FROM plants WHERE cateogry = 'x'")
        db.insert("plants", {"name": "ivy", "pot": "clay"})  # new names are recorded even so
        assert names(db.query("SELECT name FROM plants WHERE pot = 'clay'")) == ["ivy"]


NOTES: dict[str, Any] = {
    "title": "notes",
    "type": "object",
    "description": "Notes embedded for search, with undeclared metadata.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}},
    "key_field": "key",
    "embedding_fields": ["body"],
}


def test_search_where_filters_on_undeclared_fields(tmp_path: Path) -> None:
    with Database(tmp_path / "notes-db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.insert_batch("notes", [
            {"key": "bees", "body": "Worker bees turn nectar into honey in the hive.", "source": "book",
             "meta": {"year": 2015}},
            {"key": "honey", "body": "Honey keeps for years in a sealed jar.", "source": "web", "meta": {"year": 2021}},
            {"key": "rail", "body": "The train reached 320 km/h between Paris and Lyon.", "source": "web"},
        ])
        hits = db.search("honey", "notes", top_k=3, where="source = 'web'")
        assert hits[0][0]["key"] == "honey" and {e["key"] for e, _ in hits} == {"honey", "rail"}
        assert [e["key"] for e, _ in db.search("honey", "notes", where="meta.year < ?", params=[2020])] == ["bees"]
        assert [r["key"] for r in db.query("SEARCH 'honey' IN notes WHERE source = 'book'")] == ["bees"]
        with pytest.raises(QueryError, match="unknown column 'sorce' in table 'notes'; did you mean 'source'"):
            db.search("honey", "notes", where="sorce = 'web'")


def test_an_encrypted_database_stores_no_field_name_in_plaintext(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("P8_ROCKSDB_COMPRESSION", "none")  # so a plaintext name would be found
    path = tmp_path / "db"
    with Database(path, password="open sesame") as db:
        db.register_schema(copy.deepcopy(PLANTS))
        db.insert("plants", {"name": "fern", "zorblaxfield": 1})
        assert names(db.query("SELECT name FROM plants WHERE zorblaxfield = 1")) == ["fern"]
        with pytest.raises(QueryError, match=r"unknown column 'zorblax' .*\(columns: name, category, id"):
            db.query("SELECT zorblax FROM plants")  # hashed names cannot be listed in the hint
    assert not [p for p in path.rglob("*") if p.is_file() and b"zorblaxfield" in p.read_bytes()]
    with Database(path, password="open sesame", read_only=True) as db:
        assert names(db.query("SELECT name FROM plants WHERE zorblaxfield = 1")) == ["fern"]
