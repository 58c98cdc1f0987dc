"""Validation of entity rows against their table's JSON Schema, with messages that name the fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from .model import TableSchema


def _field_path(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_errors(schema: TableSchema, data: dict[str, Any], limit: int = 3) -> tuple[str, str | None]:
    """Why ``data`` fails ``schema`` (field path and the rule that failed), and the first field at fault."""
    parts, first_field = [], None
    for err in schema.validator.iter_errors(data):
        rule = err.schema_path[-1] if len(err.schema_path) else "schema"
        path = list(err.instance_path)
        where = _field_path(path)
        if rule == "required":
            parts.append(f"{err.message} (rule: required)")
            missing = err.message.split('"')
            field = missing[1] if len(missing) > 2 else None
        else:
            parts.append(f"field {where or '(root)'!r}: {err.message} (rule: {rule})")
            field = where or None
        first_field = first_field or field
        if len(parts) >= limit:
            break
    return "; ".join(parts) or "does not match the schema", first_field


def row_label(position: int | None) -> str:
    """``row 737 (index 736)`` for a 0-based batch position; empty for a single write."""
    return "" if position is None else f" row {position + 1} (index {position})"


@dataclass(frozen=True, slots=True)
class RowRef:
    """A row of a write (its table and batch position), for error messages that name it."""

    table: str
    position: int | None = None

    def __str__(self) -> str:
        return f"{self.table}{row_label(self.position)}"

    def error(self, detail: str, field: str | None = None) -> ValidationError:
        return ValidationError(f"{self}: {detail}", table=self.table, position=self.position, field=field,
                               detail=detail)


def validate_row(schema: TableSchema, data: dict[str, Any], position: int | None = None) -> None:
    """Raise :class:`ValidationError` naming the table, the row of the batch and the field at fault."""
    if schema.validator.is_valid(data):
        return
    detail, field = describe_errors(schema, data)
    raise RowRef(schema.short_name, position).error(detail, field)
