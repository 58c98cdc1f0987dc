"""Turning a chunk of entity dicts (and their vectors) into one Arrow record batch, column by column.

Scalars go through Arrow's own conversion; timestamps are cast from their ISO-8601 text by Arrow (a value
Arrow cannot parse is parsed by Python, naive values taken as UTC); JSON columns are encoded with orjson.
A value the column cannot hold (a row written before the schema changed a field's type) is a
:class:`~rem_db.SchemaError` naming the table, the column, the row id and the value.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from ..errors import SchemaError
from ..storage.codec import parse_timestamp, timestamp_micros
from .arrow_schema import TIMESTAMP, Column, arrow_schema

Row = dict[str, Any]


@dataclass
class Chunk:
    """Rows of one table plus their vectors: column name -> ``(matrix, present)`` with one row per entity
    (``present[i]`` False where the entity has no stored vector). ``arrays`` holds the non-vector columns
    when they were converted already (see :mod:`.fast`); ``rows`` is then empty."""

    rows: list[Row]
    vectors: dict[str, tuple[np.ndarray, np.ndarray]]
    extra: list[Row | None] | None = None  # undeclared fields per row, for the extra column
    arrays: dict[str, pa.Array] | None = None

    def __len__(self) -> int:
        if self.arrays:
            return len(next(iter(self.arrays.values())))
        return len(self.rows)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _bad_value(table: str, column: Column, rows: list[Row], values: Sequence[Any], what: str) -> SchemaError:
    """Find the first value of ``values`` the column refuses and describe it."""
    culprit = 0
    for n, value in enumerate(values):
        try:
            convert_values(column, [value])
        except (SchemaError, pa.ArrowException, OverflowError, TypeError, ValueError):
            culprit = n
            break
    row_id = rows[culprit].get("id") if culprit < len(rows) else None
    shown = orjson.dumps(values[culprit], option=orjson.OPT_NON_STR_KEYS).decode()[:80] if values else "?"
    return SchemaError(
        f"table {table!r}: column {column.name!r} ({what}) cannot hold {shown} of row {row_id} "
        f"(was it written before the schema changed the field's type? JSONL export keeps values as stored)")


def _timestamps(values: Sequence[Any]) -> pa.Array:
    """ISO-8601 text -> timestamp[us, UTC]; Arrow parses the usual forms, Python the rest."""
    try:
        return pa.array(values, pa.string()).cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    micros: list[int | None] = []
    for value in values:
        if value is None:
            micros.append(None)
            continue
        moment = parse_timestamp(value) if isinstance(value, str) else None
        if moment is None:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp")
        micros.append(timestamp_micros(moment))
    return pa.array(micros, pa.int64()).cast(TIMESTAMP)


def _edge_list(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"dst": e.get("dst"), "rel_type": e.get("rel_type"),
             "properties": _json(e.get("properties") if e.get("properties") is not None else {}),
             "created_at": e.get("created_at")} for e in edges]


def _edges(values: Sequence[Any]) -> list[Any]:
    return [_edge_list(edges) if edges else edges for edges in values]  # most rows have no edges


def _list(column: Column, values: Sequence[Any]) -> pa.Array:
    item = column.item or "string"
    if item in ("timestamp", "date"):
        strings = pa.array(values, pa.list_(pa.string()))
        if item == "date":
            return strings.cast(pa.list_(pa.date32()))
        flat = _timestamps(strings.flatten().to_pylist())
        return pa.ListArray.from_arrays(strings.offsets, flat, mask=strings.is_null())
    return pa.array(values, column.arrow_type())


def convert_values(column: Column, values: Sequence[Any], flat: bool = False) -> pa.Array:
    """One column's Arrow array from its Python values (``flat``: the CSV shape); raises what Arrow or the
    checks below raise for a value the column cannot hold."""
    kind = column.kind
    if kind == "timestamp":
        return _timestamps(values)
    if kind == "date":
        return pa.array(values, pa.string()).cast(pa.date32())
    if kind in ("json", "extra") or (flat and kind in ("list", "edges")):
        return pa.array([_json(v) for v in values], pa.string())
    if kind == "list":
        return _list(column, values)
    if kind == "edges":
        return pa.array(_edges(values), column.arrow_type())
    # Arrow would truncate 1.5 into an int64 and turn true into 1.0: refuse them like any other misfit
    if kind == "int" and any(type(v) is float and not v.is_integer() for v in values):
        raise ValueError("a fraction in an integer column")
    if kind == "float" and any(type(v) is bool for v in values):
        raise ValueError("a boolean in a number column")
    return pa.array(values, column.arrow_type())


def _vector(column: Column, matrix: np.ndarray, present: np.ndarray, flat: bool) -> pa.Array:
    if flat:
        return pa.array([orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode() if ok else None
                         for v, ok in zip(matrix, present, strict=True)], pa.string())
    values = pa.array(np.ascontiguousarray(matrix, dtype=np.float32).reshape(-1))
    mask = None if present.all() else pa.array(~present)
    return pa.FixedSizeListArray.from_arrays(values, column.dimensions, mask=mask)


def column_values(columns: list[Column], chunk: Chunk) -> dict[str, Any]:
    """The raw values of every non-vector column, in row order (``None`` where a row lacks the field).

    Row-major: each entity dict is visited once for all its columns (one ``itemgetter`` call) and the
    tuples are transposed by ``zip`` — far fewer cache misses than one pass over the chunk per column."""
    names = [c.name for c in columns if c.kind not in ("vector", "extra")]
    rows = chunk.rows
    try:
        tuples = list(map(operator.itemgetter(*names), rows))
    except KeyError:  # some row lacks a declared field
        tuples = [tuple(map(row.get, names)) for row in rows]
    out: dict[str, Any] = dict(zip(names, zip(*tuples, strict=True), strict=True)) if rows else \
        {name: () for name in names}
    for column in columns:
        if column.kind == "extra":
            out[column.name] = chunk.extra if chunk.extra is not None else [None] * len(rows)
    return out


def build_batch(table: str, columns: list[Column], chunk: Chunk, flat: bool = False) -> pa.RecordBatch:
    """One record batch holding ``chunk`` (``flat``: the CSV shape, nested values as JSON text)."""
    arrays = []
    raw = column_values(columns, chunk) if chunk.arrays is None else {}
    for column in columns:
        if column.kind == "vector":
            matrix, present = chunk.vectors[column.name]
            arrays.append(_vector(column, matrix, present, flat))
            continue
        if chunk.arrays is not None:
            arrays.append(chunk.arrays[column.name])
            continue
        values = raw[column.name]
        try:
            arrays.append(convert_values(column, values, flat))
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            raise _bad_value(table, column, chunk.rows, values, str(column.arrow_type(flat))) from None
    return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema(columns, flat))
