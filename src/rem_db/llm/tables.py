"""What a planner is told about tables and edges: :class:`~.context.SchemaInfo` from a schema (fields, types,
enums, indexed and key fields, row count, a few values of indexed text fields) and the edge types in the data
with the tables at their ends."""

from __future__ import annotations

import threading
from typing import Any

from ..entities.engine import EntityEngine
from ..schema.model import TableSchema
from ..schema.types import type_of
from ..storage.codec import decode_str, decode_value, successor
from ..storage.keyspace import prefix_range
from .context import FieldInfo, SchemaInfo

MAX_VALUES = 25  # an indexed text field with more distinct values lists none
MAX_EDGE_TYPES = 64
MAX_EDGE_SEEKS = 5_000  # (source, type) groups read when listing edge types; past that the list may be partial
EDGES_CF = "edges"


def field_type(prop: Any, root: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``(type word, enum values)`` of a property: a format (``date-time``) wins over ``string``."""
    ft = type_of(prop, root)
    enum = tuple(ft.enum or ())
    if ft.is_datetime:
        return "date-time", enum
    if ft.format:
        return ft.format, enum
    types = sorted(ft.types or ())
    return (types[0] if len(types) == 1 else " | ".join(types) or "any"), enum


def field_values(entities: EntityEngine, schema: TableSchema, field: str) -> tuple[Any, ...]:
    """The distinct values of an indexed text field, when it has at most :data:`MAX_VALUES` (read by skipping
    from value to value in the field index: one seek per value)."""
    fields = entities.fields
    prefix = fields.ks.field_prefix(schema.short_name, field)
    start, end = len(prefix), successor(prefix)
    lower = prefix
    found: list[Any] = []
    while len(found) <= MAX_VALUES:
        key = next(iter(fields.store.scan_keys("field_index", lower, end)), None)
        if key is None:
            break
        value, pos = decode_value(key, start)
        if isinstance(value, str) and value not in found:
            found.append(value)
        elif value is not None and not isinstance(value, str):
            return ()
        lower = successor(key[:pos])
    return tuple(found) if len(found) <= MAX_VALUES else ()


def schema_info(entities: EntityEngine, schema: TableSchema) -> SchemaInfo:
    fields = []
    root = schema.json_schema
    for name, prop in schema.properties.items():
        kind, enum = field_type(prop, root)
        desc = prop.get("description", "") if isinstance(prop, dict) else ""
        indexed = name in schema.indexed_fields
        values = field_values(entities, schema, name) if indexed and kind == "string" and not enum else ()
        fields.append(FieldInfo(name, kind, desc if isinstance(desc, str) else "", enum, indexed, values))
    return SchemaInfo(schema.short_name, schema.description, tuple(fields), schema.key_field,
                      tuple(schema.embedding_fields), schema.category,
                      entities.fields.count_table(schema.short_name))


class EdgeTypes:
    """The edge types of a tenant with the (source table, destination table) pairs seen, cached until the
    store's sequence moves."""

    def __init__(self, entities: EntityEngine) -> None:
        self.entities = entities
        self._cached: tuple[int, dict[str, list[tuple[str, str]]]] | None = None
        self._lock = threading.Lock()

    def get(self) -> dict[str, list[tuple[str, str]]]:
        seq = self.entities.store.sequence()
        with self._lock:
            if self._cached is not None and self._cached[0] == seq:
                return self._cached[1]
        found = self._read()
        with self._lock:
            self._cached = (seq, found)
        return found

    def _read(self) -> dict[str, list[tuple[str, str]]]:
        """One key per (source, edge type) group: seek past the group's other destinations."""
        store, ks = self.entities.store, self.entities.ks
        lower, end = prefix_range(ks.prefix)
        offset = ks.rel_offset()
        samples: dict[str, list[tuple[bytes, bytes]]] = {}
        for _ in range(MAX_EDGE_SEEKS):
            key = next(iter(store.scan_keys(EDGES_CF, lower, end)), None)
            if key is None:
                break
            rel, pos = decode_str(key, offset)
            group = samples.setdefault(rel, [])
            if len(group) < 4:
                group.append((key[offset - 16:offset], key[-16:]))
            if len(samples) >= MAX_EDGE_TYPES:
                break
            lower = successor(key[:pos])
        ids = list({i for pairs in samples.values() for pair in pairs for i in pair})
        tables = {i: (r or {}).get("entity_type") for i, r in zip(ids, self.entities.get_many(ids), strict=True)}
        out: dict[str, list[tuple[str, str]]] = {}
        for rel, pairs in samples.items():
            ends = [(str(tables[s]), str(tables[d])) for s, d in pairs if tables.get(s) and tables.get(d)]
            out[rel] = list(dict.fromkeys(ends))
        return out
