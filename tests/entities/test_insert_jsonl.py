"""``Database.insert_jsonl``: JSON Lines from a file, a stream or a list of lines, one atomic batch per chunk,
errors naming the input line and what was kept."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database, NotFoundError, ReadOnlyError, ValidationError
from rem_db.entities.stream import JsonlLineError, JsonlProgress


def jsonl(rows: list[dict[str, Any]], blank_after: int | None = None) -> str:
    lines = [json.dumps(r) for r in rows]
    if blank_after is not None:
        lines.insert(blank_after, "")
    return "".join(line + "\n" for line in lines)


def rows_of(n: int, bad: int | None = None) -> list[dict[str, Any]]:
    rows = [{"product_code": f"P-{i}", "name": f"Product {i}", "price": i} for i in range(1, n + 1)]
    if bad is not None:
        rows[bad - 1]["price"] = "abc"
    return rows


def test_a_file_is_loaded_in_atomic_chunks(db: Database, products: str, tmp_path: Path) -> None:
    path = tmp_path / "products.jsonl"
    path.write_text("\ufeff" + jsonl(rows_of(25), blank_after=3))  # a BOM and a blank line are fine
    result = db.insert_jsonl(products, path, chunk_size=10)
    assert (result.table, result.rows, result.chunks, result.lines) == ("products", 25, 3, 26)
    assert result.entities == []  # only kept when asked for
    assert db.count(products) == 25
    assert db.lookup("P-25")[0]["price"] == 25


def test_streams_and_lists_of_lines_and_returned_entities(db: Database, products: str) -> None:
    binary = db.insert_jsonl(products, io.BytesIO(jsonl(rows_of(3)).encode()), return_entities=True)
    assert [e["product_code"] for e in binary.entities] == ["P-1", "P-2", "P-3"]
    assert binary.entities[0] == db.get(binary.entities[0]["id"])
    text = db.insert_jsonl(products, io.StringIO(jsonl(rows_of(5))))
    lines = db.insert_jsonl(products, [json.dumps({"product_code": "P-9", "name": "Nine", "price": 9}), "  "])
    assert (binary.rows, text.rows, lines.rows, lines.lines) == (3, 5, 1, 2)
    assert db.count(products) == 6  # P-1..P-3 were upserted again by the second load


def test_a_bad_row_fails_its_chunk_and_keeps_the_earlier_ones(db: Database, products: str) -> None:
    text = jsonl(rows_of(30, bad=17))
    with pytest.raises(ValidationError) as caught:
        db.insert_jsonl(products, io.BytesIO(text.encode()), chunk_size=10, name="stdin")
    error = caught.value
    assert isinstance(error, JsonlLineError)
    assert (error.line, error.chunk_start, error.written, error.table, error.field) == (17, 11, 10, "products", "price")
    assert str(error).startswith("line 17: products: ")
    assert str(error).endswith("nothing from the chunk starting at line 11 was written; "
                               "10 rows were inserted into products before it")
    assert db.count(products) == 10


def test_upsert_words_the_message_and_one_row_is_singular(db: Database, products: str) -> None:
    text = jsonl(rows_of(2, bad=2))
    with pytest.raises(JsonlLineError, match="1 row was upserted into products before it"):
        db.insert_jsonl(products, text.splitlines(), chunk_size=1, upsert=True)


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"product_code": "A", "name": "A", "price": 1}\n{"product_code": "B", "price": 2,}\n',
     "invalid JSON on input.jsonl line 2, column 33: trailing comma"),
    (b'{"product_code": "A", "name": "A", "price": 1}\n{"a": "\x00"}\n',
     "input.jsonl line 2 is binary data (NUL byte at offset 7), not UTF-8 JSON text"),
    (b'{"product_code": "A", "name": "A", "price": 1}\n{"a": "\xff"}\n',
     "input.jsonl line 2 is not UTF-8 text (invalid byte at offset 7); expected UTF-8 JSON"),
])
def test_unreadable_lines_are_named(db: Database, products: str, tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(raw)
    with pytest.raises(JsonlLineError) as caught:
        db.insert_jsonl(products, path, name="input.jsonl")
    assert str(caught.value).startswith(message)
    assert caught.value.line == 2 and caught.value.written == 0
    assert "nothing from the chunk starting at line 1 was written" in str(caught.value)
    assert db.count(products) == 0


def test_a_path_names_itself_in_errors(db: Database, products: str, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("{oops}\n")
    with pytest.raises(JsonlLineError, match=f"invalid JSON on {path} line 1, column 2"):
        db.insert_jsonl(products, str(path))


def test_progress_reports_bytes_and_rows(db: Database, products: str, tmp_path: Path) -> None:
    path = tmp_path / "products.jsonl"
    path.write_text(jsonl(rows_of(25)))
    seen: list[tuple[int, int | None, int, int]] = []

    def progress(state: JsonlProgress) -> None:
        seen.append((state.bytes_read, state.bytes_total, state.rows, state.lines))

    db.insert_jsonl(products, path, chunk_size=10, progress=progress)
    size = path.stat().st_size
    assert [(total, rows, lines) for _, total, rows, lines in seen] == [(size, 10, 10), (size, 20, 20), (size, 25, 25)]
    assert seen[-1][0] == size and seen[0][0] < seen[1][0] < size


def test_an_unknown_table_fails_before_reading(db: Database) -> None:
    read: list[str] = []

    def lines() -> Iterator[str]:
        read.append("read")
        yield "{}"

    with pytest.raises(NotFoundError, match="unknown table 'nope'"):
        db.insert_jsonl("nope", lines())
    assert read == []


def test_read_only_and_bad_chunk_size_are_refused(db_path: Path, products: str, db: Database) -> None:
    with pytest.raises(ValidationError, match="chunk_size must be a positive integer"):
        db.insert_jsonl(products, ["{}"], chunk_size=0)
    db.close()
    with Database(db_path, read_only=True) as reader, pytest.raises(ReadOnlyError):
        reader.insert_jsonl(products, ["{}"])
