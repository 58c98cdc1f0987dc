"""The whole-table Parquet path that converts stored rows with Arrow's JSON reader (export/fast.py) gives the
same file as the row-by-row path (taken with a WHERE that keeps every row), and hands every chunk it cannot
convert exactly to the row-by-row path: edges, a hub, values written under an older schema, undeclared
fields, soft-deleted rows. ``P8_EXPORT_ROW_GROUP_SIZE=4`` makes several chunks, so one file mixes both."""

from __future__ import annotations

import contextlib
import copy
import itertools
import operator
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from rem_db import Database, SchemaError
from rem_db.export import fast
from rem_db.export.reading import read_ahead

TYPED: dict[str, Any] = {
    "title": "typed",
    "type": "object",
    "description": "Scalar and list columns only: the JSON reader's case.",
    "properties": {
        "name": {"type": "string"},
        "qty": {"type": "integer"},
        "price": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
        "ok": {"type": "boolean"},
        "seen_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}], "default": None},
        "day": {"type": "string", "format": "date"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "stamps": {"anyOf": [{"type": "array", "items": {"type": "string", "format": "date-time"}},
                             {"type": "null"}]},
    },
    "required": ["name"],
    "key_field": "name",
}


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"name": f"r{i:03d}", "qty": i * 7 - 20, "price": None if i % 5 == 0 else i / 4, "ok": i % 2 == 0,
             "seen_at": None if i % 3 == 0 else f"2025-0{1 + i % 9}-1{i % 10}T0{i % 10}:30:00+02:00",
             "day": f"2024-12-{1 + i % 28:02d}", "tags": [f"t{i % 4}", "ü"][: i % 3],
             "stamps": [f"2026-01-0{1 + i % 9}T12:00:00Z"] if i % 2 else None}
            for i in range(n)]


@pytest.fixture
def chunks_of_four(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Small chunks, and a record of which chunks the JSON reader converted (True) or handed back (False)."""
    monkeypatch.setenv("P8_EXPORT_ROW_GROUP_SIZE", "4")
    taken: list[bool] = []
    convert = fast.convert

    def recording(*args: Any, **kwargs: Any) -> Any:
        out = convert(*args, **kwargs)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(fast, "convert", recording)
    return taken


def _both(db: Database, table: str, tmp_path: Path, **kwargs: Any) -> tuple[list[dict], list[dict]]:
    """(rows of the whole-table export, rows of the row-by-row export of the same rows), both as read back."""
    db.export(table, output=tmp_path / "fast.parquet", **kwargs)
    db.export(table, output=tmp_path / "rows.parquet", where="name IS NOT NULL", **kwargs)
    fast_file, rows_file = pq.read_table(tmp_path / "fast.parquet"), pq.read_table(tmp_path / "rows.parquet")
    assert fast_file.schema == rows_file.schema
    key = operator.itemgetter("id")
    return sorted(fast_file.to_pylist(), key=key), sorted(rows_file.to_pylist(), key=key)


def test_typed_rows_match_the_row_by_row_path(db: Database, tmp_path: Path, chunks_of_four: list[bool]) -> None:
    db.register_schema(copy.deepcopy(TYPED))
    db.insert_batch("typed", _rows(10))
    fast_rows, row_rows = _both(db, "typed", tmp_path)
    assert chunks_of_four == [True, True, True]  # every chunk went through the JSON reader
    assert fast_rows == row_rows
    by_name = {r["name"]: r for r in fast_rows}
    assert by_name["r001"]["seen_at"].isoformat() == "2025-02-10T23:30:00+00:00"  # +02:00 read as UTC
    assert by_name["r001"]["stamps"][0].isoformat() == "2026-01-02T12:00:00+00:00"
    assert str(by_name["r004"]["day"]) == "2024-12-05"
    assert by_name["r005"]["price"] is None and by_name["r006"]["price"] == 1.5


def test_edges_and_a_hub_come_back_whole(db: Database, tmp_path: Path, chunks_of_four: list[bool]) -> None:
    db.register_schema(copy.deepcopy(TYPED))
    written = db.insert_batch("typed", _rows(12))
    hub, other = written[0]["id"], written[5]["id"]
    db.add_edges([(hub, r["id"], "links") for r in written])
    db.add_edges([(hub, r["id"], f"rel-{n}") for n in range(30) for r in written])  # 372 edges: a hub
    db.add_edge(other, hub, "back", {"w": 1.5})
    fast_rows, row_rows = _both(db, "typed", tmp_path)
    assert fast_rows == row_rows
    by_id = {r["id"]: r for r in fast_rows}
    assert len(by_id[hub]["edges"]) == 372
    assert by_id[other]["edges"][0]["properties"] == '{"w":1.5}'
    assert len(chunks_of_four) == 3 and False in chunks_of_four  # the hub's chunk went row by row


def test_values_of_an_older_schema(db: Database, tmp_path: Path, chunks_of_four: list[bool]) -> None:
    """``qty`` stored as ``3.0`` under a schema where it was a number reads as the integer 3 on both paths;
    stored as text it is a SchemaError naming the row, as before."""
    old = copy.deepcopy(TYPED)
    old["properties"]["qty"] = {"type": "number"}
    db.register_schema(old)
    db.insert_batch("typed", _rows(6))
    floaty = db.insert("typed", {"name": "floaty", "qty": 3.0})
    new = copy.deepcopy(TYPED)
    new["version"] = "1.1.0"
    db.register_schema(new)
    fast_rows, row_rows = _both(db, "typed", tmp_path)
    assert fast_rows == row_rows
    assert next(r for r in fast_rows if r["id"] == floaty["id"])["qty"] == 3
    assert False in chunks_of_four  # the chunk holding 3.0 went the row-by-row way

    texty = copy.deepcopy(TYPED)
    texty["properties"]["qty"] = {"type": "string"}
    texty["version"] = "1.2.0"
    db.register_schema(texty)
    bad = db.insert("typed", {"name": "texty", "qty": "lots"})
    new["version"] = "1.3.0"
    db.register_schema(new)
    with pytest.raises(SchemaError, match=r"column 'qty' \(int64\) cannot hold \"lots\" of row " + bad["id"]):
        db.export("typed", output=tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


def test_undeclared_fields_and_deleted_rows(db: Database, tmp_path: Path, chunks_of_four: list[bool]) -> None:
    db.register_schema(copy.deepcopy(TYPED))
    written = db.insert_batch("typed", _rows(9))
    db.insert("typed", {"name": "extra", "colour": "red"})
    db.delete(written[2]["id"])
    summary = db.export("typed", output=tmp_path / "t.parquet")
    assert summary["rows"] == 9 and summary["undeclared_fields"] == {}  # exported, in `extra`
    assert True in chunks_of_four and False in chunks_of_four  # only the chunk holding `colour` went row by row
    table = pq.read_table(tmp_path / "t.parquet")
    extras = dict(zip(table.column("name").to_pylist(), table.column("extra").to_pylist(), strict=True))
    assert extras.pop("extra") == '{"colour":"red"}' and set(extras.values()) == {None}
    assert sorted(extras) == sorted(r["name"] for r in written if r["id"] != written[2]["id"])
    fast_rows, row_rows = _both(db, "typed", tmp_path, include_deleted=True)
    assert fast_rows == row_rows and len(fast_rows) == 10
    assert [r["deleted_at"] is not None for r in fast_rows].count(True) == 1


def test_closed_table_counts_undeclared_fields(db: Database, tmp_path: Path, chunks_of_four: list[bool]) -> None:
    """Rows written before the schema set ``additional_properties: false`` keep their undeclared fields; a
    closed table has no ``extra`` column, so the summary counts them, on both paths."""
    db.register_schema(copy.deepcopy(TYPED))
    db.insert_batch("typed", [*_rows(5), {"name": "x", "colour": "red"}])
    db.register_schema({**copy.deepcopy(TYPED), "version": "1.1.0", "additional_properties": False})
    summary = db.export("typed", output=tmp_path / "t.parquet")
    assert summary["undeclared_fields"] == {"colour": 1} and "extra" not in pq.read_schema(tmp_path / "t.parquet").names
    fast_rows, row_rows = _both(db, "typed", tmp_path)
    assert fast_rows == row_rows and len(fast_rows) == 6


def test_open_table_without_undeclared_fields_goes_the_fast_way(db: Database, tmp_path: Path,
                                                                 chunks_of_four: list[bool]) -> None:
    """Every open table has an ``extra`` column (JSON text); chunks without undeclared fields still go
    through the JSON reader (``extra`` null), the others row by row, and both give the same file."""
    db.register_schema({**copy.deepcopy(TYPED), "additionalProperties": True})
    db.insert_batch("typed", [*_rows(7), {"name": "x", "size": {"cm": 3}, "extra": 1}])
    fast_rows, row_rows = _both(db, "typed", tmp_path)
    assert fast_rows == row_rows
    assert sorted(chunks_of_four) == [False, True]
    # an undeclared field named like the column goes inside it
    assert next(r for r in fast_rows if r["name"] == "x")["extra"] == '{"size":{"cm":3},"extra":1}'


def test_read_ahead_passes_items_errors_and_stops_early() -> None:
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        raise SchemaError("table 't': column 'x' cannot hold 2")

    got = []
    with pytest.raises(SchemaError, match="cannot hold 2"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]

    produced = itertools.count()
    before = threading.active_count()
    with pytest.raises(OSError, match="disk full"), contextlib.closing(read_ahead(iter(produced))) as items:
        for item in items:
            if item == 3:
                raise OSError("disk full")  # the consumer fails, as a file write can
    assert threading.active_count() == before  # the producer thread is gone
    assert next(produced) < 10  # it stopped, a queue's depth past what was taken

    def nested() -> Iterator[int]:
        with contextlib.closing(read_ahead(iter(itertools.count()))) as inner:
            yield from inner

    with contextlib.closing(read_ahead(nested())) as outer:
        assert [next(outer) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert threading.active_count() == before  # closing the outer stage stopped the inner one too


def test_a_small_share_of_the_database_is_read_by_id(db: Database, tmp_path: Path,
                                                     chunks_of_four: list[bool]) -> None:
    """A table holding well under a third of the entities is read through its row list (multi-gets), the
    soft-deleted rows last; the file holds the same rows as the row-by-row path."""
    from rem_db.query import scan

    db.register_schema(copy.deepcopy(TYPED))
    db.register_schema({"title": "bulk", "description": "Other rows.", "type": "object",
                        "properties": {"n": {"type": "integer"}}})
    db.insert_batch("bulk", [{"n": i} for i in range(60)])
    written = db.insert_batch("typed", _rows(9))
    db.delete(written[4]["id"])
    assert not scan.sequential_pays(db._engine, "typed")
    fast_rows, row_rows = _both(db, "typed", tmp_path, include_deleted=True)
    assert fast_rows == row_rows and len(fast_rows) == 9
    assert chunks_of_four and all(chunks_of_four)
    live = pq.read_table(tmp_path / "fast.parquet").column("name").to_pylist()
    assert live[-1] == written[4]["name"]  # with include_deleted, the deleted row comes after the live ones


def test_vectors_of_rows_read_by_id_with_deleted_ones(db: Database, tmp_path: Path) -> None:
    """Row-list reads with soft-deleted rows last are out of id order: each row still gets its own vector
    (the range scan maps them by key), and a row without text has none."""
    db.register_schema({"title": "bulk", "description": "Other rows.", "type": "object",
                        "properties": {"n": {"type": "integer"}}})
    db.insert_batch("bulk", [{"n": i} for i in range(40)])
    db.register_schema({"title": "notes", "type": "object", "description": "Embedded notes.",
                        "properties": {"key": {"type": "string"}, "body": {"anyOf": [{"type": "string"},
                                                                                    {"type": "null"}]}},
                        "required": ["key"], "embedding_fields": ["body"]})
    written = db.insert_batch("notes", [{"key": f"k{n}", "body": f"Note number {n} about ferns."} for n in range(5)]
                              + [{"key": "empty"}])
    db.delete(written[1]["id"])
    db.delete(written[3]["id"])
    out = tmp_path / "notes.parquet"
    assert db.export("notes", output=out, with_embeddings=True, include_deleted=True)["rows"] == 6
    rows = pq.read_table(out).to_pylist()
    assert [r["deleted_at"] is not None for r in rows] == [False] * 4 + [True] * 2
    for row in rows:
        stored = db.get(row["id"], include_embeddings=True, include_deleted=True).get("embedding")
        if stored is None:
            assert row["key"] == "empty" and row["embedding"] is None
        else:
            assert row["embedding"] == pytest.approx(stored, abs=1e-7)
