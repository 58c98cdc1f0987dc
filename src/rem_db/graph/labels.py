"""Short human labels for entities (graph drawings, traversal listings): the value of the table's key field,
else of ``name``, ``key``, ``title`` or ``uri``, else the id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

#: Fields tried, in order, after the table's key field.
LABEL_FIELDS = ("name", "key", "title", "uri")


def label_text(value: Any) -> str:
    """A field value as label text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else orjson.dumps(value).decode("utf-8")


class EntityLabels:
    """``labels(entity) -> str``; ``key_field(table)`` gives a table's key field (``None`` when it has none
    or the table is gone) and is asked once per table."""

    def __init__(self, key_field: Callable[[str], str | None]) -> None:
        self._key_field = key_field
        self._key_fields: dict[str, str | None] = {}

    def __call__(self, entity: dict[str, Any]) -> str:
        table = str(entity.get("entity_type", ""))
        if table not in self._key_fields:
            self._key_fields[table] = self._key_field(table)
        for name in (self._key_fields[table], *LABEL_FIELDS):
            value = entity.get(name) if name else None
            if value not in (None, ""):
                return label_text(value)
        return str(entity["id"])
