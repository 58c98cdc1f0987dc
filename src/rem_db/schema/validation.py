"""Validation of entity rows against their table's JSON Schema, with messages that name the fault."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from .model import TableSchema


def _field_path(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_errors(schema: TableSchema, data: dict[str, Any], limit: int = 3) -> str:
    """Human-readable account of why ``data`` fails ``schema``: field path and the rule that failed."""
    parts = []
    for err in schema.validator.iter_errors(data):
        rule = err.schema_path[-1] if len(err.schema_path) else "schema"
        where = _field_path(list(err.instance_path))
        if rule == "required":
            parts.append(f"{err.message} (rule: required)")
        else:
            parts.append(f"field {where or '(root)'!r}: {err.message} (rule: {rule})")
        if len(parts) >= limit:
            break
    return "; ".join(parts) or "does not match the schema"


def row_label(position: int | None) -> str:
    """``row 737 (index 736)`` for a 0-based batch position; empty for a single write."""
    return "" if position is None else f" row {position + 1} (index {position})"


def validate_row(schema: TableSchema, data: dict[str, Any], position: int | None = None) -> None:
    """Raise :class:`ValidationError` naming the table, the row of the batch and the field at fault."""
    if schema.validator.is_valid(data):
        return
    raise ValidationError(f"{schema.short_name}{row_label(position)}: {describe_errors(schema, data)}")
