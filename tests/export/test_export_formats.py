"""CSV and JSON Lines exports read back (Python's csv/orjson and DuckDB), and how the format is chosen."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from export_helpers import JSON_COLUMNS, PARQUET_TYPES, TIME_COLUMNS, duck, duck_types, iso

from rem_db import ConfigError, Database

COLUMNS = list(PARQUET_TYPES)
NESTED = ("edges", "tags", "scores", *JSON_COLUMNS)


def _csv_value(column: str, text: str) -> Any:
    """A CSV cell back to the stored value's meaning (empty = null)."""
    if text == "":
        return None
    if column in NESTED:
        return orjson.loads(text)
    if column in TIME_COLUMNS:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    if column == "qty":
        return int(text)
    if column == "price":
        return float(text)
    if column == "in_stock":
        return {"true": True, "false": False}[text]
    return text


def _stored(column: str, value: Any) -> Any:
    return iso(value) if column in TIME_COLUMNS else value


def test_csv_round_trip(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "items.csv"
    summary = db.export("items", output=out)
    assert summary["format"] == "csv" and summary["rows"] == len(items)
    assert {c["name"]: c["type"] for c in summary["columns"]}["tags"] == "string"  # nested values as JSON text
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        lines = list(reader)
    assert header == COLUMNS and len(lines) == len(items)
    by_id = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    for row in items:
        got = by_id[row["id"]]
        for column in COLUMNS:
            want = _stored(column, row.get(column))
            assert _csv_value(column, got[column]) == want, f"{row['name']!r}.{column}: {got[column]!r}"
    multi = by_id[next(r["id"] for r in items if r["name"].startswith("Fougère"))]
    assert orjson.loads(multi["meta"])["note"] == "naïve \"quotes\", commas\nand newlines"


def test_csv_opens_in_duckdb_with_types(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "items.csv"
    db.export("items", output=out)
    types = duck_types(f"read_csv('{out}')")
    assert types["created_at"] == types["released_at"] == "TIMESTAMP WITH TIME ZONE"
    assert (types["qty"], types["price"], types["in_stock"], types["day"]) == ("BIGINT", "DOUBLE", "BOOLEAN", "DATE")
    rows = duck(f"SELECT name, qty, released_at FROM read_csv('{out}') ORDER BY name").to_pylist()
    want = sorted(items, key=lambda r: r["name"])
    assert [(r["name"], r["qty"], r["released_at"]) for r in rows] == [
        (r["name"], r.get("qty"), iso(r.get("released_at"))) for r in want]


def test_jsonl_round_trip(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    assert db.export("items", output=out)["rows"] == len(items)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    # every column in order, values exactly as stored (nested JSON stays nested, timestamps as their text);
    # undeclared fields would follow inline, so there is no `extra` key
    columns = [c for c in COLUMNS if c != "extra"]
    assert lines == [{c: r.get(c) for c in columns} for r in items]  # both in id order
    assert all(list(line) == columns for line in lines)
    got = duck(f"SELECT name, meta.size.cm AS cm FROM read_json('{out}') WHERE name = 'Pot, small'").to_pylist()
    assert got == [{"name": "Pot, small", "cm": 12}]


@pytest.mark.parametrize(("name", "given", "kind"), [
    ("a.parquet", None, "parquet"), ("a.PQ", None, "parquet"), ("a.csv", None, "csv"), ("a.jsonl", None, "jsonl"),
    ("a.ndjson", None, "jsonl"), ("no_extension", None, "parquet"), ("a.csv", "jsonl", "jsonl"),
    ("a.data", "CSV", "csv"),
])
def test_format_from_extension_or_argument(db: Database, items: list[dict[str, Any]], tmp_path: Path,
                                           name: str, given: str | None, kind: str) -> None:
    out = tmp_path / name
    assert db.export("items", output=out, format=given)["format"] == kind
    head = out.read_bytes()[:4]
    assert (head == b"PAR1") == (kind == "parquet")
    if kind == "parquet":
        assert pq.read_metadata(out).num_rows == len(items)
    elif kind == "jsonl":
        assert len(out.read_bytes().splitlines()) == len(items)
    else:
        assert out.read_text(encoding="utf-8").startswith('"id","entity_type"')


def test_unknown_extension_or_format_is_a_config_error(db: Database, items: list[dict[str, Any]],
                                                       tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'items\.json'.*\.jsonl"):
        db.export("items", output=tmp_path / "items.json")
    with pytest.raises(ConfigError, match=r"'xlsx'.*parquet, csv, jsonl"):
        db.export("items", output=tmp_path / "items.parquet", format="xlsx")
    assert list(tmp_path.iterdir()) == [tmp_path / "db"]  # nothing written
