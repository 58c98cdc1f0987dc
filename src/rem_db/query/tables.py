"""Finding the table a query names, with a helpful error when there is none."""

from __future__ import annotations

import difflib

from ..errors import QueryError
from ..schema.model import TableSchema
from ..schema.registry import SchemaRegistry
from .positions import error


def unknown_table(schemas: SchemaRegistry, table: str, text: str | None, pos: int) -> QueryError:
    """The error for a table that is not registered: the closest name, or the list of tables."""
    names = [s.short_name for s in schemas.all()]
    close = difflib.get_close_matches(table, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (tables: {', '.join(names)})"
    return error(f"unknown table {table!r}{hint}", text, pos)


def find_schema(schemas: SchemaRegistry, table: str, text: str | None, pos: int) -> TableSchema:
    """The schema of ``table``; :func:`unknown_table` when it has none (``pos`` where the query names it)."""
    schema = schemas.find(table)
    if schema is None:
        raise unknown_table(schemas, table, text, pos)
    return schema
