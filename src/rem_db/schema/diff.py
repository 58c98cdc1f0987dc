"""What differs between two definitions of one table, in the user's terms (for re-registration errors)."""

from __future__ import annotations

from typing import Any

from .model import SETTING_KEYS, TableSchema

# Resolved settings compared one by one; the version is the same when this is asked, the name too.
_SETTINGS = ("key_field", "indexed_fields", "embedding_fields", "embedding_provider", "description", "category",
             "fully_qualified_name", "tools", "resources", "additional_properties", "hnsw")
_SHOWN = 60  # characters of a changed value quoted in a message


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _names(names: list[str]) -> str:
    return ", ".join(names)


def _property_change(old: Any, new: Any) -> str:
    """What changed in one property: its type, else the keywords that differ."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return f"{_show(old)} -> {_show(new)}"
    if old.get("type") != new.get("type"):
        return f"type {_show(old.get('type'))} -> {_show(new.get('type'))}"
    changed = [str(k) for k in sorted({*old, *new}, key=str) if old.get(k) != new.get(k)]
    return f"{_names(changed)} {'differs' if len(changed) == 1 else 'differ'}"


def schema_changes(old: TableSchema, new: TableSchema) -> list[str]:
    """The differences between ``old`` and ``new``: properties added, removed or changed, required fields,
    settings (key_field, indexed_fields, embedding_fields, …) and other JSON Schema keywords."""
    changes: list[str] = []
    old_props, new_props = old.properties, new.properties
    added = [p for p in new_props if p not in old_props]
    removed = [p for p in old_props if p not in new_props]
    if added:
        changes.append(f"properties added: {_names(added)}")
    if removed:
        changes.append(f"properties removed: {_names(removed)}")
    for prop in (p for p in new_props if p in old_props and old_props[p] != new_props[p]):
        changes.append(f"property {prop!r} changed: {_property_change(old_props[prop], new_props[prop])}")

    old_req, new_req = old.json_schema.get("required") or [], new.json_schema.get("required") or []
    if isinstance(old_req, list) and isinstance(new_req, list) and old_req != new_req:
        now = [str(r) for r in new_req if r not in old_req]
        not_now = [str(r) for r in old_req if r not in new_req]
        parts = ([f"now required: {_names(now)}"] if now else []) + \
                ([f"no longer required: {_names(not_now)}"] if not_now else [])
        changes.append("; ".join(parts) if parts else "required: order differs")

    old_settings, new_settings = old.settings(), new.settings()
    for key in _SETTINGS:
        if old_settings[key] != new_settings[key]:
            changes.append(f"{key}: {_show(old_settings[key])} -> {_show(new_settings[key])}")

    skip = {"properties", "required", "json_schema_extra", *SETTING_KEYS}
    for key in sorted({*old.json_schema, *new.json_schema} - skip, key=str):
        if old.json_schema.get(key) != new.json_schema.get(key):
            changes.append(f"{key}: {_show(old.json_schema.get(key))} -> {_show(new.json_schema.get(key))}")
    if not changes:  # same resolved definition, written differently (a setting moved between placements)
        changes.append("the JSON Schema text differs (json_schema_extra, or settings moved between the top "
                       "level, json_schema_extra and the fields)")
    return changes
