"""One row per field of a table (``Database.schema_fields``, the field list of ``rem schema show``)."""

from __future__ import annotations

from typing import Any

from .types import type_of


def field_rows(description: dict[str, Any]) -> list[dict[str, Any]]:
    """``{"field", "type", "required", "default", "flags"}`` for each property of a table, in schema order,
    from its description (``Database.get_schema``). ``type`` is the short form of :mod:`.types`
    (``string | null``, ``array<integer>``, ``any``); ``flags`` lists ``key``, ``indexed`` and ``embedded``
    where they apply."""
    json_schema = description.get("json_schema") or {}
    required = set(json_schema.get("required") or [])
    rows = []
    for name, spec in (json_schema.get("properties") or {}).items():
        flags = [flag for flag, on in (("key", name == description.get("key_field")),
                                       ("indexed", name in (description.get("indexed_fields") or [])),
                                       ("embedded", name in (description.get("embedding_fields") or []))) if on]
        rows.append({"field": name, "type": type_of(spec, json_schema).display, "required": name in required,
                     "default": spec.get("default") if isinstance(spec, dict) else None, "flags": flags})
    return rows
