"""JSON, JSON Lines and CSV/TSV files as records: the rows of a named table, read as a stream.

A ``.json`` file holds one object or an array of objects (it is parsed whole); ``.jsonl`` / ``.ndjson``
one object per line; ``.csv`` / ``.tsv`` a header line, then rows. CSV values are text: each is converted
to the type its column has in the table's JSON Schema (integer, number, boolean, array/object as JSON);
an empty cell is left out, so the field's default (or null) applies.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..schema.model import TableSchema
from ..schema.types import field_type
from .detect import Detected, FileProblem
from .readers.registry import register_reader
from .readers.text import lines, open_text

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def read_records(path: Path, detected: Detected, schema: TableSchema) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, row)`` pairs: ``where`` names the line or item a row came from, for error messages."""
    encoding = detected.encoding or "utf-8"
    if detected.kind == "json":
        yield from _json(path, encoding)
    elif detected.kind == "jsonl":
        yield from _jsonl(path, encoding)
    else:
        yield from _csv(path, encoding, "\t" if detected.kind == "tsv" else ",", schema)


def _json(path: Path, encoding: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with open_text(path, encoding) as handle:
            data = orjson.loads(handle.read())
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not valid {encoding} text ({exc.reason})") from None
    except orjson.JSONDecodeError as exc:
        raise FileProblem(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    items = data if isinstance(data, list) else [data]
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise FileProblem(f"item {n} is {type(item).__name__}, not a JSON object (a records file holds "
                              f"an object or an array of objects)")
        yield f"item {n}", item


def _jsonl(path: Path, encoding: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for number, line in enumerate(lines(path, encoding), start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise FileProblem(f"invalid JSON on line {number}, column {exc.colno}: {exc.msg}") from None
        if not isinstance(item, dict):
            raise FileProblem(f"line {number} is {type(item).__name__}, not a JSON object")
        yield f"line {number}", item


def _csv(path: Path, encoding: str, delimiter: str, schema: TableSchema) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with open_text(path, encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip().lstrip("\ufeff") for h in header]
            if not all(header) or len(set(header)) != len(header):
                raise FileProblem(f"the header line needs distinct, non-empty column names, got {header}")
            types = {name: _types(schema, name) for name in header}
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    raise FileProblem(f"line {line} has {len(values)} values for {len(header)} columns")
                yield f"line {line}", {name: _convert(value, types[name])
                                       for name, value in zip(header, values, strict=True) if value != ""}
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not valid {encoding} text ({exc.reason})") from None
    except csv.Error as exc:
        raise FileProblem(f"invalid CSV: {exc}") from None


def _types(schema: TableSchema, column: str) -> frozenset[str]:
    """The JSON types a top-level property allows (``null`` included); empty when unconstrained or undeclared."""
    found = field_type(schema.json_schema, (column,))
    return (found.json_types if found is not None else None) or frozenset()


def _convert(value: str, types: frozenset[str]) -> Any:
    """A CSV cell as the JSON type its column allows (text when the column allows strings)."""
    if not types or ("string" in types and not types & {"integer", "number", "boolean"}):
        return value
    text = value.strip()
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    if types & {"array", "object"}:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    if "string" in types:
        return value
    if "null" in types and text.lower() in ("null", "none"):
        return None
    return value  # validation names the field and the line


# Records formats: rows into a named table, read by this module rather than by a document reader.
register_reader("json", None, content_type="application/json", extensions=(".json",), records=True)
register_reader("jsonl", None, content_type="application/x-ndjson", extensions=(".jsonl", ".ndjson"), records=True)
register_reader("csv", None, content_type="text/csv", extensions=(".csv",), records=True)
register_reader("tsv", None, content_type="text/tab-separated-values", extensions=(".tsv",), records=True)
