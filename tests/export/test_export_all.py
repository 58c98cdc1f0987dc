"""`export(all_tables=True)`: one file per table with rows, a manifest, only the tenant's own rows; and
fields outside a table's declared columns (the `_extra` column of open tables)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from export_helpers import ITEMS, PARQUET_TYPES, compare_rows, duck, item_rows, parquet_rows

from rem_db import Database


def test_all_tables_with_manifest(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    db.insert("sessions", {"session_id": "s-1", "user_id": "ü", "metadata": {"client": "cli"}})
    out = tmp_path / "dump"
    result = db.export(output=out, all_tables=True)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert result["manifest"] == str(out / "manifest.json") and result["path"] == str(out)
    assert {k: v for k, v in result.items() if k not in ("path", "manifest")} == manifest
    written = {t["table"]: t for t in manifest["tables"]}
    # every table with rows, system ones included (`schemas` holds the registered schemas): docs/export.md
    assert sorted(written) == ["items", "schemas", "sessions"]
    assert manifest["empty_tables"] == ["documents", "messages", "moments", "resources"]
    assert sorted(p.name for p in out.iterdir()) == ["items.parquet", "manifest.json", "schemas.parquet",
                                                     "sessions.parquet"]
    assert manifest["format"] == "parquet" and manifest["tenant"] == "default"
    assert manifest["database"] == str(db.path.resolve()) and manifest["created_at"].endswith("Z")
    assert manifest["rows"] == sum(t["rows"] for t in manifest["tables"])
    for name, entry in written.items():
        assert entry["file"] == f"{name}.parquet" and entry["rows"] == db.count(name)
        assert pq.read_metadata(out / entry["file"]).num_rows == entry["rows"]
        assert [c["name"] for c in entry["columns"]] == pq.read_schema(out / entry["file"]).names
    assert {c["name"]: c["type"] for c in written["items"]["columns"]} == {
        k: v[0].replace("element: ", "item: ") for k, v in PARQUET_TYPES.items()}
    assert written["schemas"]["category"] == "system" and written["items"]["category"] == "user"
    compare_rows(items, parquet_rows(out / "items.parquet")[1], list(PARQUET_TYPES))
    names = duck(f"SELECT name FROM read_parquet('{out / 'schemas.parquet'}') ORDER BY name").column("name")
    assert "items" in names.to_pylist()


def test_all_tables_as_csv_with_deleted_rows(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    manifest = db.export(output=tmp_path / "csv", all_tables=True, format="csv", include_deleted=True)
    entry = next(t for t in manifest["tables"] if t["table"] == "items")
    assert entry["file"] == "items.csv" and entry["rows"] == len(items) + 1
    got = duck(f"SELECT count(*) AS n FROM read_csv('{tmp_path / 'csv' / 'items.csv'}') "
               f"WHERE deleted_at IS NOT NULL")
    assert got.column("n").to_pylist() == [1]


def test_only_the_tenants_rows(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Database(path, tenant_id="alpha") as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.insert_batch("items", item_rows())
    with Database(path, tenant_id="beta") as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.insert("items", {"name": "beta only"})
        manifest = db.export(output=tmp_path / "beta", all_tables=True)
        assert manifest["tenant"] == "beta"
        assert [r["name"] for r in parquet_rows(tmp_path / "beta" / "items.parquet")[1]] == ["beta only"]


def test_open_table_keeps_undeclared_fields_in_extra(db: Database, tmp_path: Path) -> None:
    db.register_schema({"title": "loose", "description": "Anything goes.", "type": "object",
                        "properties": {"name": {"type": "string"}}, "additionalProperties": True})
    db.insert_batch("loose", [{"name": "a", "colour": "red", "size": {"cm": 3}}, {"name": "b"}])
    out = tmp_path / "loose.parquet"
    summary = db.export("loose", output=out)
    assert summary["undeclared_fields"] == {}
    schema, rows = parquet_rows(out)
    assert schema.names[-2:] == ["name", "extra"]
    extra = {r["name"]: (orjson.loads(r["extra"]) if r["extra"] else None) for r in rows}
    assert extra == {"a": {"colour": "red", "size": {"cm": 3}}, "b": None}
    # JSON Lines keeps them as they are in each object
    jsonl = db.export("loose", output=tmp_path / "l.jsonl")
    assert "extra" not in [c["name"] for c in jsonl["columns"]]
    lines = {line["name"]: line for line in map(orjson.loads, (tmp_path / "l.jsonl").read_bytes().splitlines())}
    assert lines["a"]["colour"] == "red" and lines["a"]["size"] == {"cm": 3} and list(lines["a"])[-3:] == [
        "name", "colour", "size"]
    assert "colour" not in lines["b"] and "extra" not in lines["b"]


def test_closed_table_reports_undeclared_fields(db: Database, tmp_path: Path) -> None:
    """Rows written before the schema closed (``additional_properties: false``) keep their undeclared
    fields; the closed table has no ``extra`` column, so the summary counts what is not exported."""
    db.register_schema(copy.deepcopy(ITEMS))
    db.insert_batch("items", [{"name": "a", "colour": "red"}, {"name": "b", "colour": "blue", "size": 2}])
    db.register_schema({**copy.deepcopy(ITEMS), "version": "1.1.0", "additionalProperties": False})
    summary = db.export("items", output=tmp_path / "items.parquet")
    assert summary["undeclared_fields"] == {"colour": 2, "size": 1}
    names = pq.read_schema(tmp_path / "items.parquet").names
    assert "colour" not in names and "extra" not in names
