"""Schemas, rows and read-back helpers of the export tests (imported as ``export_helpers``).

Expected values are computed here from the database's own rows (``Database.rows``), independently of the
exporter's conversion code: ISO text -> aware UTC datetime, JSON text -> parsed value, and so on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

UTC = dt.UTC

ITEMS: dict[str, Any] = {
    "title": "items",
    "type": "object",
    "description": "Typed items for the export tests.",
    "properties": {
        "name": {"type": "string"},
        "qty": {"type": "integer"},
        "price": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
        "in_stock": {"type": "boolean"},
        "released_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}], "default": None},
        "day": {"type": "string", "format": "date"},
        "kind": {"type": "string", "enum": ["pot", "plant"]},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "scores": {"type": "array", "items": {"type": "number"}},
        "meta": {"type": "object", "default": {}},
        "anything": {},
    },
    "required": ["name"],
    "key_field": "name",
    "indexed_fields": ["qty"],
}

#: column -> (Arrow type text in Parquet, DuckDB type of the Parquet file)
PARQUET_TYPES = {
    "id": ("string", "VARCHAR"),
    "entity_type": ("string", "VARCHAR"),
    "created_at": ("timestamp[us, tz=UTC]", "TIMESTAMP WITH TIME ZONE"),
    "modified_at": ("timestamp[us, tz=UTC]", "TIMESTAMP WITH TIME ZONE"),
    "deleted_at": ("timestamp[us, tz=UTC]", "TIMESTAMP WITH TIME ZONE"),
    "edges": ("list<element: struct<dst: string, rel_type: string, properties: string, created_at: string>>",
              "STRUCT(dst VARCHAR, rel_type VARCHAR, properties VARCHAR, created_at VARCHAR)[]"),
    "name": ("string", "VARCHAR"),
    "qty": ("int64", "BIGINT"),
    "price": ("double", "DOUBLE"),
    "in_stock": ("bool", "BOOLEAN"),
    "released_at": ("timestamp[us, tz=UTC]", "TIMESTAMP WITH TIME ZONE"),
    "day": ("date32[day]", "DATE"),
    "kind": ("string", "VARCHAR"),
    "tags": ("list<element: string>", "VARCHAR[]"),
    "scores": ("list<element: double>", "DOUBLE[]"),
    "meta": ("string", "VARCHAR"),
    "anything": ("string", "VARCHAR"),
    "extra": ("string", "VARCHAR"),  # undeclared fields as one JSON object (null: none)
}
JSON_COLUMNS = ("meta", "anything", "extra")
TIME_COLUMNS = ("created_at", "modified_at", "deleted_at", "released_at")


def item_rows() -> list[dict[str, Any]]:
    """Six rows covering nulls, unicode, offsets, nested JSON, empty lists and missing optional fields."""
    return [
        {"name": "Pot, small", "qty": 3, "price": 4.5, "in_stock": True, "released_at": "2025-01-31T12:00:00Z",
         "day": "2025-01-31", "kind": "pot", "tags": ["terracotta", "small"], "scores": [1.5, 2],
         "meta": {"colour": "red", "size": {"cm": 12}}, "anything": [1, "two", None]},
        {"name": "Fougère — 羊歯 🌿", "qty": -7, "price": None, "in_stock": False,
         "released_at": "2024-06-01T08:30:15.250+02:00", "day": "2024-06-01", "kind": "plant", "tags": [],
         "scores": [], "meta": {"note": "naïve \"quotes\", commas\nand newlines"}, "anything": "text"},
        {"name": "Big number", "qty": 2**62, "price": 1e300, "in_stock": True, "day": "1999-12-31",
         "kind": "pot", "tags": ["ünïcödé"], "meta": {}, "anything": {"deep": {"er": [{"x": 1}]}}},
        {"name": "Sparse"},
        {"name": "Negative zero", "qty": 0, "price": -0.0, "in_stock": False, "released_at": None,
         "tags": ["a", "b", "c"], "scores": [0.1, 0.2, 0.3], "anything": 42},
        {"name": "Old", "qty": 1, "price": 0.5, "released_at": "1970-01-01T00:00:00.000001Z", "anything": True},
    ]


def iso(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(UTC)


def expected_value(column: str, value: Any) -> Any:
    """What a Parquet reader should give for a stored value of ``column``."""
    if column in TIME_COLUMNS:
        return iso(value)
    if column == "day":
        return None if value is None else dt.date.fromisoformat(value)
    if column == "edges":
        return [{"dst": e["dst"], "rel_type": e["rel_type"], "properties": e["properties"],
                 "created_at": e["created_at"]} for e in value]
    return value


def normalise_read(column: str, value: Any) -> Any:
    """A value read from a file, with JSON text parsed (objects are exported as JSON strings)."""
    if column in JSON_COLUMNS:
        return None if value is None else orjson.loads(value)
    if column == "edges" and value is not None:
        return [{**e, "properties": orjson.loads(e["properties"])} for e in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC)
    return value


def compare_rows(db_rows: list[dict[str, Any]], read: list[dict[str, Any]], columns: list[str]) -> None:
    """Row by row, column by column: the file holds exactly the database's rows (matched by id)."""
    by_id = {r["id"]: r for r in read}
    assert sorted(by_id) == sorted(r["id"] for r in db_rows)
    for row in db_rows:
        got = by_id[row["id"]]
        assert list(got) == columns
        for column in columns:
            want = expected_value(column, row.get(column))
            have = normalise_read(column, got[column])
            assert have == want, f"{row['name']!r}.{column}: file has {have!r}, database {want!r}"
            if isinstance(want, float):
                assert type(have) is float and str(have) == str(want)  # -0.0 and 1e300 survive


def parquet_rows(path: Path) -> tuple[pa.Schema, list[dict[str, Any]]]:
    table = pq.read_table(path)
    return table.schema, table.to_pylist()


def duck(sql: str, *params: Any) -> Any:
    """Run SQL in a fresh in-memory DuckDB (UTC session); returns the relation's Arrow table."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(sql, params=list(params)) if params else con.sql(sql)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()


def duck_types(source: str) -> dict[str, str]:
    import duckdb

    con = duckdb.connect()
    return {name: kind for name, kind, *_ in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()}
