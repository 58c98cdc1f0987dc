"""Secondary field indexes: equality and range reads over typed, order-preserving keys (SPEC §4).

Every table has index entries for the system fields ``created_at``, ``modified_at`` and ``deleted_at``
(null while live), plus one per ``indexed_fields`` entry. The ``deleted_at`` entries list every row of the
table (null first, then deleted ones by time), so they double as the table's row list and its
``entity_type`` index: no separate entry is written for a value every row of the table shares.
A missing field is indexed as null; a list is indexed once per scalar element; an object as its
compact JSON text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ..schema.model import SYSTEM_TIMESTAMPS, TableSchema
from ..storage.codec import TAG_NULL, decode_value, encode_value, successor, tag_bounds
from ..storage.keyspace import Keyspace
from ..storage.store import Store

CF = "field_index"
SYSTEM_INDEXED = ("created_at", "modified_at", "deleted_at")
ROWS_FIELD = "deleted_at"
TABLE_FIELD = "entity_type"


def _within(value: Any, lo: Any, hi: Any, lo_inclusive: bool, hi_inclusive: bool) -> bool:
    try:
        if lo is not None and (value < lo or (value == lo and not lo_inclusive)):
            return False
        return not (hi is not None and (value > hi or (value == hi and not hi_inclusive)))
    except TypeError:  # a bound of another type never matches, as with typed index ranges
        return False


def indexed_fields(schema: TableSchema) -> tuple[str, ...]:
    return SYSTEM_INDEXED + tuple(f for f in schema.indexed_fields if f not in SYSTEM_INDEXED)


def is_timestamp_field(schema: TableSchema, field: str) -> bool:
    return field in SYSTEM_TIMESTAMPS or field in schema.timestamp_fields


def _scalars(value: Any) -> Iterable[Any]:
    if isinstance(value, list):
        seen = []
        for item in value:
            for scalar in _scalars(item) if not isinstance(item, list) else (orjson.dumps(item).decode(),):
                if scalar not in seen:
                    seen.append(scalar)
        return seen or [None]
    if isinstance(value, dict):
        return (orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode(),)
    return (value,)


class FieldIndex:
    """Writes and reads the field index of one tenant."""

    def __init__(self, store: Store, keyspace: Keyspace) -> None:
        self.store = store
        self.ks = keyspace
        self._plans: dict[int, tuple[TableSchema, list[tuple[str, bytes, bool]]]] = {}

    # -- maintenance -------------------------------------------------------------------------------
    def _plan(self, schema: TableSchema) -> list[tuple[str, bytes, bool]]:
        """(field, key prefix, is timestamp) per indexed field, computed once per schema object."""
        cached = self._plans.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        plan = [(f, self.ks.field_prefix(schema.short_name, f), is_timestamp_field(schema, f))
                for f in indexed_fields(schema)]
        self._plans[id(schema)] = (schema, plan)
        return plan

    def entries(self, schema: TableSchema, entity: dict[str, Any], id16: bytes) -> set[bytes]:
        """Every index key an entity has under ``schema``."""
        keys = set()
        for field, prefix, ts in self._plan(schema):
            value = entity.get(field)
            if isinstance(value, list | dict):
                for scalar in _scalars(value):
                    keys.add(prefix + encode_value(scalar, ts) + id16)
            else:
                keys.add(prefix + encode_value(value, ts) + id16)
        return keys

    # -- reads -------------------------------------------------------------------------------------
    def encode(self, schema: TableSchema, field: str, value: Any) -> bytes:
        return encode_value(value, is_timestamp_field(schema, field))

    def equal(self, schema: TableSchema, field: str, value: Any) -> list[bytes]:
        """Ids (16 bytes) of rows whose ``field`` equals ``value`` (or contains it, for lists)."""
        if field == TABLE_FIELD:
            return list(self.table_ids(schema.short_name)) if value == schema.short_name else []
        prefix = self.ks.field_prefix(schema.short_name, field) + self.encode(schema, field, value)
        return [k[-16:] for k in self.store.scan_keys(CF, prefix, successor(prefix))]

    def holding(self, schema: TableSchema, field: str, value: Any, ids: list[bytes]) -> list[bool]:
        """For each id, whether :meth:`equal` would list it: one point read per id instead of reading every
        id of the value (a vector search checks its few hundred nearest this way)."""
        if field == TABLE_FIELD:
            table_ids = set(self.table_ids(schema.short_name)) if value == schema.short_name else set()
            return [i in table_ids for i in ids]
        prefix = self.ks.field_prefix(schema.short_name, field) + self.encode(schema, field, value)
        return [found is not None for found in self.store.multi_get(CF, [prefix + i for i in ids])]

    def range(self, schema: TableSchema, field: str, lo: Any = None, hi: Any = None,
              lo_inclusive: bool = True, hi_inclusive: bool = True,
              reverse: bool = False) -> Iterator[tuple[Any, bytes]]:
        """``(value, id16)`` for rows with ``lo <(=) field <(=) hi``, in value order (or reverse).

        A missing bound is open, but the range stays within the other bound's type (numbers with numbers,
        timestamps with timestamps, strings with strings), as SQL comparisons do. With both bounds
        missing it covers every non-null value.
        """
        if field == TABLE_FIELD:
            yield from self._table_field(schema, lambda v: _within(v, lo, hi, lo_inclusive, hi_inclusive))
            return
        prefix, lower, upper = self._range_bounds(schema, field, lo, hi, lo_inclusive, hi_inclusive)
        start = len(prefix)
        for key in self.store.scan_keys(CF, lower, upper, reverse=reverse):
            value, _ = decode_value(key, start)
            yield value, key[-16:]

    def range_ids(self, schema: TableSchema, field: str, lo: Any = None, hi: Any = None,
                  lo_inclusive: bool = True, hi_inclusive: bool = True) -> Iterator[bytes]:
        """The ids of :meth:`range` without decoding the values (cheaper when only ids are needed)."""
        if field == TABLE_FIELD:
            yield from (i for _, i in self.range(schema, field, lo, hi, lo_inclusive, hi_inclusive))
            return
        _, lower, upper = self._range_bounds(schema, field, lo, hi, lo_inclusive, hi_inclusive)
        for key in self.store.scan_keys(CF, lower, upper):
            yield key[-16:]

    def _range_bounds(self, schema: TableSchema, field: str, lo: Any, hi: Any, lo_inclusive: bool,
                      hi_inclusive: bool) -> tuple[bytes, bytes, bytes]:
        """The field's key prefix and the ``[lower, upper)`` keys of a range (see :meth:`range`)."""
        prefix = self.ks.field_prefix(schema.short_name, field)
        enc_lo = self.encode(schema, field, lo) if lo is not None else None
        enc_hi = self.encode(schema, field, hi) if hi is not None else None
        if enc_lo is not None:
            lower = prefix + enc_lo if lo_inclusive else successor(prefix + enc_lo)
        elif enc_hi is not None:
            lower = prefix + tag_bounds(enc_hi[0])[0]
        else:
            lower = prefix + bytes((TAG_NULL + 1,))
        if enc_hi is not None:
            upper = successor(prefix + enc_hi) if hi_inclusive else prefix + enc_hi
        elif enc_lo is not None:
            upper = prefix + tag_bounds(enc_lo[0])[1]
        else:
            upper = successor(prefix)
        return prefix, lower, upper

    def scan(self, schema: TableSchema, field: str, reverse: bool = False) -> Iterator[tuple[Any, bytes]]:
        """Every ``(value, id16)`` of a field in value order, nulls first (last when reversed)."""
        if field == TABLE_FIELD:
            yield from self._table_field(schema, lambda v: True)
            return
        prefix = self.ks.field_prefix(schema.short_name, field)
        start = len(prefix)
        for key in self.store.scan_keys(CF, prefix, successor(prefix), reverse=reverse):
            value, _ = decode_value(key, start)
            yield value, key[-16:]

    def _table_field(self, schema: TableSchema, keep: Any) -> Iterator[tuple[Any, bytes]]:
        """``entity_type`` has one value per table: answered from the table's row list."""
        if keep(schema.short_name):
            for id16 in self.table_ids(schema.short_name):
                yield schema.short_name, id16

    def count_equal(self, schema: TableSchema, field: str, value: Any) -> int:
        if field == TABLE_FIELD:
            return self.count_table(schema.short_name, include_deleted=True) if value == schema.short_name else 0
        prefix = self.ks.field_prefix(schema.short_name, field) + self.encode(schema, field, value)
        return self.store.count(CF, prefix, successor(prefix))

    def _rows_prefix(self, table: str, include_deleted: bool) -> bytes:
        prefix = self.ks.field_prefix(table, ROWS_FIELD)
        return prefix if include_deleted else prefix + encode_value(None)

    def table_ids(self, table: str, include_deleted: bool = True) -> Iterator[bytes]:
        """Ids of the rows of a table (soft-deleted ones too by default): O(rows of that table)."""
        prefix = self._rows_prefix(table, include_deleted)
        for key in self.store.scan_keys(CF, prefix, successor(prefix)):
            yield key[-16:]

    def deleted_ids(self, table: str) -> Iterator[bytes]:
        """Ids of the soft-deleted rows of a table: its non-null ``deleted_at`` entries (the row list holds
        the live rows under null, then the deleted ones by time)."""
        prefix = self.ks.field_prefix(table, ROWS_FIELD)
        for key in self.store.scan_keys(CF, prefix + bytes((TAG_NULL + 1,)), successor(prefix)):
            yield key[-16:]

    def live_ids(self, table: str) -> Iterator[bytes]:
        """Ids of the rows of a table that are not soft-deleted."""
        return self.table_ids(table, include_deleted=False)

    def count_table(self, table: str, include_deleted: bool = False) -> int:
        prefix = self._rows_prefix(table, include_deleted)
        return self.store.count(CF, prefix, successor(prefix))
