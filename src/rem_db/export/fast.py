"""Stored rows straight to Arrow columns with pyarrow's JSON reader (C++, no Python dict per row).

Used for whole-table Parquet exports of tables whose columns are all scalars, lists of scalars, ``edges``,
vectors and ``extra`` (no other JSON-text columns; ``extra`` is null in a chunk the reader converts, since a
chunk with an undeclared field goes the row-by-row way). The reader parses typed columns with an explicit
schema; timestamps and dates are read as text and cast exactly as :mod:`.batches` casts them. Whenever a
chunk holds anything the reader cannot convert the way the row-by-row path would (a value of another type, an
integer written as ``1.0``, an undeclared field, a hub's edge count), :func:`convert` returns ``None``
and the chunk goes through :func:`~.batches.build_batch`, which gives the same values or the error
naming the row.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from .arrow_schema import EDGE_TYPE, Column
from .batches import convert_values

_AS_TEXT = ("timestamp", "date")  # parsed from text by Arrow's cast, as the row-by-row path does
_SCALAR = ("string", "int", "float", "bool", *_AS_TEXT)


def eligible(columns: list[Column]) -> bool:
    """Whether every column can be read by the JSON reader (no JSON-text columns but ``extra``)."""
    return all(c.kind in (*_SCALAR, "list", "edges", "vector", "extra") for c in columns)


def _read_type(column: Column) -> pa.DataType:
    if column.kind in _AS_TEXT:
        return pa.string()
    if column.kind == "list" and column.item in _AS_TEXT:
        return pa.list_(pa.string())
    return column.arrow_type()


def read_schema(columns: list[Column]) -> pa.Schema:
    """The explicit schema given to the reader: every column but ``edges``, ``extra`` and the vectors."""
    return pa.schema([(c.name, _read_type(c)) for c in columns if c.kind not in ("edges", "vector", "extra")])


def _edges(column: Column, found: pa.ChunkedArray | None, raws: list[bytes], with_edges: Any) -> pa.Array | None:
    """The ``edges`` column: straight from the reader when every row's list is empty, else decoded."""
    if found is None:
        return pa.nulls(len(raws), EDGE_TYPE)
    if pa.types.is_list(found.type) and pa.types.is_null(found.type.value_type):
        return found.combine_chunks().cast(EDGE_TYPE)
    try:
        values = [row.get("edges") for row in with_edges([orjson.loads(raw) for raw in raws])]
        return convert_values(column, values)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def convert(columns: list[Column], schema: pa.Schema, raws: list[bytes],
            with_edges: Any) -> dict[str, pa.Array] | None:
    """The non-vector columns of the rows ``raws`` (stored JSON), or ``None`` when the chunk must go the
    row-by-row way. ``with_edges`` puts a hub's edges back into decoded rows."""
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    try:
        table = pa_json.read_json(io.BytesIO(b"\n".join(raws)), parse_options=options,
                                  read_options=pa_json.ReadOptions(block_size=1 << 20))
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(raws):
        return None
    # stored fields that are columns (a stored field named like the extra or a vector column is undeclared)
    names = {c.name for c in columns if c.kind not in ("vector", "extra")}
    if any(name not in names for name in table.column_names):  # an undeclared field
        return None
    out: dict[str, pa.Array] = {}
    for column in columns:
        if column.kind == "vector":
            continue
        if column.kind == "extra":
            out[column.name] = pa.nulls(len(raws), pa.string())
            continue
        found = table.column(column.name) if column.name in table.column_names else None
        if column.kind == "edges":
            array = _edges(column, found, raws, with_edges)
            if array is None:
                return None
            out[column.name] = array
            continue
        array = found.combine_chunks() if found is not None else pa.nulls(len(raws), _read_type(column))
        if column.kind in _AS_TEXT or (column.kind == "list" and column.item in _AS_TEXT):
            try:
                array = convert_values(column, array.to_pylist()) if column.kind == "list" else array.cast(
                    column.arrow_type())
            except (pa.ArrowException, TypeError, ValueError):
                return None  # e.g. a naive timestamp: the row-by-row path parses it in Python
        out[column.name] = array
    return out
