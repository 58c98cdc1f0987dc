"""The key index (SPEC §4): every key value of an entity -> (table, id), across the tenant's tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import ValidationError
from ..schema.model import TableSchema
from ..storage.codec import bad_text, decode_str, successor
from ..storage.keyspace import Keyspace
from ..storage.store import Store

CF = "key_index"


def key_values(schema: TableSchema, entity: Mapping[str, Any]) -> list[str]:
    """The key values an entity answers to: ``uri``, its ``key_field`` value, ``key`` and ``name``."""
    values: list[str] = []
    uri = entity.get("uri")
    if isinstance(uri, str):
        values.append(uri)
    if schema.key_field and entity.get(schema.key_field) is not None:
        values.append(render(entity[schema.key_field]))
    if entity.get("key") is not None:
        values.append(render(entity["key"]))
    name = entity.get("name")
    if isinstance(name, str):
        values.append(name)
    return list(dict.fromkeys(v for v in values if v != ""))



def render(value: Any) -> str:
    """A key value as text: strings as they are, everything else as compact JSON (``true``, ``42``); the
    deterministic ids hash the same rendering (SPEC §1)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")

class KeyIndex:
    """Writes and reads the key index of one tenant."""

    def __init__(self, store: Store, keyspace: Keyspace) -> None:
        self.store = store
        self.ks = keyspace

    def entries(self, schema: TableSchema, entity: Mapping[str, Any], id16: bytes) -> set[bytes]:
        return {self.ks.key_entry(v, schema.short_name, id16) for v in key_values(schema, entity)}

    def find(self, key_value: str) -> list[tuple[str, bytes]]:
        """``(table, id16)`` of every entity with this exact key value; a key that is not valid text (a lone
        surrogate: no stored key can hold one) is a :class:`~rem_db.ValidationError`."""
        try:
            prefix = self.ks.key_value_prefix(key_value)
        except UnicodeEncodeError:
            raise ValidationError(f"key {key_value!r} is not valid text: {bad_text(key_value)}") from None
        start = len(prefix)
        out = []
        for key in self.store.scan_keys(CF, prefix, successor(prefix)):
            table, _ = decode_str(key, start)
            out.append((table, key[-16:]))
        return out

    def all_values(self) -> list[tuple[str, str, bytes]]:
        """Every ``(key value, table, id16)`` of the tenant (for fuzzy matching and checks)."""
        start = len(self.ks.prefix)
        out = []
        for key in self.store.scan_keys(CF, self.ks.prefix, self.ks.end):
            value, pos = decode_str(key, start)
            table, _ = decode_str(key, pos)
            out.append((value, table, key[-16:]))
        return out
