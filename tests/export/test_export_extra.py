"""Undeclared fields are exported (issue 18, item 10): one JSON-text column ``extra`` in Parquet and CSV (null
for rows without any), inline in JSON Lines; a table that declares ``extra`` gets ``_extra``."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from export_helpers import duck

from rem_db import Database

PLANTS: dict[str, Any] = {
    "title": "plants",
    "type": "object",
    "description": "Plants with free-form metadata.",
    "properties": {"name": {"type": "string"}, "height": {"type": "integer"}},
    "key_field": "name",
}
ROWS = [{"name": "fern", "height": 40, "colour": "green", "origin": {"country": "NZ"}},
        {"name": "moss"},
        {"name": "rose", "height": 80, "colour": "red", "thorns": True}]
EXTRA = {"fern": {"colour": "green", "origin": {"country": "NZ"}}, "moss": None,
         "rose": {"colour": "red", "thorns": True}}


def _plants(db: Database, schema: dict[str, Any] = PLANTS) -> None:
    db.register_schema(copy.deepcopy(schema))
    db.insert_batch("plants", copy.deepcopy(ROWS))


def test_parquet_has_an_extra_json_column(db: Database, tmp_path: Path) -> None:
    _plants(db)
    out = tmp_path / "plants.parquet"
    summary = db.export("plants", output=out)
    assert summary["undeclared_fields"] == {} and summary["columns"][-1] == {"name": "extra", "type": "string"}
    table = pq.read_table(out)
    assert table.schema.names[-3:] == ["name", "height", "extra"]
    assert table.schema.field("extra").metadata == {b"rem.type": b"json"}
    got = {r["name"]: (orjson.loads(r["extra"]) if r["extra"] is not None else None) for r in table.to_pylist()}
    assert got == EXTRA
    # analytics engines read it as JSON text
    rows = duck(f"SELECT name, json_extract_string(extra, '$.origin.country') AS country FROM read_parquet('{out}') "
                f"WHERE extra IS NOT NULL ORDER BY name").to_pylist()
    assert rows == [{"name": "fern", "country": "NZ"}, {"name": "rose", "country": None}]


def test_csv_has_an_extra_json_column(db: Database, tmp_path: Path) -> None:
    _plants(db)
    out = tmp_path / "plants.csv"
    db.export("plants", output=out)
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames is not None and reader.fieldnames[-1] == "extra"
        got = {r["name"]: (orjson.loads(r["extra"]) if r["extra"] else None) for r in reader}
    assert got == EXTRA


def test_jsonl_keeps_undeclared_fields_inline(db: Database, tmp_path: Path) -> None:
    _plants(db)
    out = tmp_path / "plants.jsonl"
    db.export("plants", output=out)
    lines = {line["name"]: line for line in map(orjson.loads, out.read_bytes().splitlines())}
    for name, extra in EXTRA.items():
        assert {k: v for k, v in lines[name].items() if k not in ("id", "entity_type", "created_at", "modified_at",
                                                                  "deleted_at", "edges", "name", "height")} == (
            extra or {})
        assert "extra" not in lines[name]


def test_a_declared_extra_property_moves_the_column(db: Database, tmp_path: Path) -> None:
    schema = copy.deepcopy(PLANTS)
    schema["properties"]["extra"] = {"type": "string"}
    db.register_schema(schema)
    db.insert("plants", {"name": "fern", "extra": "declared", "colour": "green"})
    out = tmp_path / "plants.parquet"
    db.export("plants", output=out)
    row = pq.read_table(out).to_pylist()[0]
    assert row["extra"] == "declared" and orjson.loads(row["_extra"]) == {"colour": "green"}
