"""The text an entity is embedded with (its embedding fields, in order); the vectors themselves live in
:mod:`rem_db.index.vector_store`."""

from __future__ import annotations

from typing import Any

import orjson


def text_of(fields: tuple[str, ...], entity: dict[str, Any]) -> str:
    """The text embedded for an entity: its embedding fields, in order, joined with blank lines."""
    parts = []
    for field in fields:
        value = entity.get(field)
        if value is None or value == "" or value == []:
            continue
        parts.append(value if isinstance(value, str) else orjson.dumps(value).decode())
    return "\n\n".join(parts)
