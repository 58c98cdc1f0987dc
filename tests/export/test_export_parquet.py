"""Parquet export read back with pyarrow and DuckDB, compared with the database row by row, types included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from export_helpers import PARQUET_TYPES, compare_rows, duck, duck_types, parquet_rows

from rem_db import Database

COLUMNS = list(PARQUET_TYPES)


def test_parquet_round_trip_with_pyarrow(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "out" / "items.parquet"
    summary = db.export("items", output=out, parents=True)
    assert summary["rows"] == len(items) == 6
    assert summary["path"] == str(out) and summary["format"] == "parquet" and out.stat().st_size == summary["bytes"]
    schema, rows = parquet_rows(out)
    assert [f.name for f in schema] == COLUMNS  # system fields first, then the schema's order
    assert {f.name: str(f.type) for f in schema} == {k: v[0] for k, v in PARQUET_TYPES.items()}
    assert not schema.field("id").nullable and schema.field("price").nullable
    assert schema.field("meta").metadata == {b"rem.type": b"json"}
    assert schema.metadata[b"rem.table"] == b"items"
    compare_rows(items, rows, COLUMNS)
    first = next(r for r in rows if r["name"] == "Pot, small")
    assert {e["rel_type"] for e in first["edges"]} == {"pairs_with", "próximo"}
    assert first["created_at"].tzinfo is not None and first["created_at"].utcoffset() == dt.timedelta(0)
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"


def test_parquet_round_trip_with_duckdb(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "items.parquet"
    db.export("items", output=out)
    source = f"read_parquet('{out}')"
    assert duck_types(source) == {k: v[1] for k, v in PARQUET_TYPES.items()}
    compare_rows(items, duck(f"SELECT * FROM {source}").to_pylist(), COLUMNS)
    # typed columns work in SQL as they are: timestamps compare as instants, lists unnest, JSON parses
    hits = duck(f"SELECT name FROM {source} WHERE released_at < TIMESTAMPTZ '2024-06-01 07:00:00+00' "
                f"ORDER BY name").column("name").to_pylist()
    assert hits == ["Fougère — 羊歯 🌿", "Old"]  # 08:30:15+02:00 is 06:30:15 UTC
    tags = duck(f"SELECT count(*) AS n FROM (SELECT unnest(tags) FROM {source})").column("n").to_pylist()
    assert tags == [sum(len(r.get("tags") or []) for r in items)]
    cm = duck(f"SELECT json_extract(meta, '$.size.cm')::INT AS cm FROM {source} WHERE name = 'Pot, small'")
    assert cm.column("cm").to_pylist() == [12]


def test_where_filters_rows(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "cheap.parquet"
    summary = db.export("items", output=out, where="qty >= ? AND in_stock = true", params=[1])
    want = [r for r in items if (r.get("qty") or 0) >= 1 and r.get("in_stock") is True]
    assert summary["rows"] == len(want) == db.count("items", where="qty >= 1 AND in_stock = true") == 2
    compare_rows(want, parquet_rows(out)[1], COLUMNS)
    # an indexed condition (qty) and one on a nested JSON path go through the same filter
    assert db.export("items", output=out, where="qty = 3")["rows"] == 1
    assert db.export("items", output=out, where="meta.colour = 'red'")["rows"] == 1


def test_include_deleted(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    summary = db.export("items", output=out, include_deleted=True)
    everything = list(db.rows("items", include_deleted=True))
    assert summary["rows"] == len(everything) == len(items) + 1
    _, rows = parquet_rows(out)
    compare_rows(everything, rows, COLUMNS)
    deleted = [r for r in rows if r["deleted_at"] is not None]
    assert [r["name"] for r in deleted] == ["Deleted one"]
    assert db.export("items", output=out, include_deleted=True, where="deleted_at IS NOT NULL")["rows"] == 1


def test_empty_table_gives_empty_file_with_schema(db: Database, tmp_path: Path) -> None:
    import copy

    from export_helpers import ITEMS

    db.register_schema(copy.deepcopy(ITEMS))
    out = tmp_path / "empty.parquet"
    assert db.export("items", output=out)["rows"] == 0
    schema, rows = parquet_rows(out)
    assert rows == [] and [f.name for f in schema] == COLUMNS
    assert duck_types(f"read_parquet('{out}')")["released_at"] == "TIMESTAMP WITH TIME ZONE"
    assert db.export("items", output=tmp_path / "none.parquet", where="qty > 0")["rows"] == 0


def test_row_groups_follow_the_setting(db: Database, items: list[dict[str, Any]], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_EXPORT_ROW_GROUP_SIZE", "4")
    out = tmp_path / "groups.parquet"
    calls: list[tuple[str, int, int | None]] = []
    db.export("items", output=out, include_deleted=True, progress=lambda *a: calls.append(a))
    meta = pq.ParquetFile(out).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 3]
    assert calls == [("items", 4, 7), ("items", 7, 7)]  # after each chunk: rows done, rows expected
    compare_rows(list(db.rows("items", include_deleted=True)), parquet_rows(out)[1], COLUMNS)
