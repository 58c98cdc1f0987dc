"""The window a dream reads, and the rows created or modified in it (from the ``created_at`` / ``modified_at``
field index ranges of every table but ``moments`` and ``schemas``: moments never dream about moments)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..embeddings.vectors import text_of
from ..entities.engine import EntityEngine
from ..errors import ValidationError
from ..schema.model import SYSTEM_FIELDS
from ..schema.registry import SchemaRegistry
from ..storage.codec import format_timestamp, parse_timestamp

#: tables a dream never reads: its own output, and the table of schemas
SKIPPED_TABLES = frozenset({"moments", "schemas"})
#: characters of one row's text kept for summarising (a long chunk is represented by its beginning)
MAX_ITEM_CHARS = 2_000
#: the longest look back: ten years
MAX_LOOKBACK_HOURS = 24 * 366 * 10


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @property
    def start_iso(self) -> str:
        return format_timestamp(self.start)

    @property
    def end_iso(self) -> str:
        return format_timestamp(self.end)

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start_iso, "end": self.end_iso}


@dataclass(frozen=True)
class Item:
    """One row of the window: its table, id, time of activity (``modified_at`` when that falls in the window,
    else ``created_at``), the text it is summarised by, and the row itself."""

    id: str
    table: str
    time: datetime
    text: str
    row: dict[str, Any]


def _instant(value: Any, option: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{option} must be an ISO-8601 time such as 2025-01-31T09:00:00Z, got {value!r}")
    text = value.strip()
    parsed = parse_timestamp(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if parsed is None:
        raise ValidationError(f"{option} {value!r} is not an ISO-8601 time (expected e.g. 2025-01-31T09:00:00Z)")
    return parsed


def resolve_window(lookback_hours: Any = 24, start: Any = None, end: Any = None,
                   now: datetime | None = None) -> Window:
    """The window of a dream: ``[start, end)``; a missing ``end`` is now, a missing ``start`` is
    ``end - lookback_hours``. Bad input is a :class:`~rem_db.ValidationError` naming the option."""
    if isinstance(lookback_hours, bool) or not isinstance(lookback_hours, int | float) \
            or not math.isfinite(lookback_hours) or not 0 < lookback_hours <= MAX_LOOKBACK_HOURS:
        raise ValidationError(f"lookback_hours (--lookback-hours) must be a number of hours above 0 and at most "
                              f"{MAX_LOOKBACK_HOURS:,}, got {lookback_hours!r}")
    begin = _instant(start, "start (--start)")
    finish = _instant(end, "end (--end)")
    if finish is None:
        finish = now or datetime.now(UTC)
    if begin is None:
        begin = finish - timedelta(hours=lookback_hours)
    if finish <= begin:
        raise ValidationError(f"end (--end) {format_timestamp(finish)} is not after start (--start) "
                              f"{format_timestamp(begin)}: a window needs end > start")
    return Window(begin.astimezone(UTC), finish.astimezone(UTC))


def item_text(fields: tuple[str, ...], row: dict[str, Any]) -> str:
    """What a row is summarised by: its embedded text, else its string fields (``name`` first)."""
    text = text_of(fields, row) if fields else ""
    if not text:
        parts = [row["name"]] if isinstance(row.get("name"), str) else []
        parts += [f"{k}: {v}" for k, v in row.items()
                  if k not in SYSTEM_FIELDS and k != "name" and isinstance(v, str) and v]
        text = "\n".join(parts)
    return text[:MAX_ITEM_CHARS]


def select_items(engine: EntityEngine, schemas: SchemaRegistry, window: Window) -> list[Item]:
    """Every live row of the readable tables created or modified in the window, in time order (then id)."""
    lo, hi = window.start_iso, window.end_iso
    items: list[Item] = []
    for schema in schemas.all():
        if schema.short_name in SKIPPED_TABLES:
            continue
        ids: dict[bytes, None] = {}
        for field in ("created_at", "modified_at"):
            ids.update(dict.fromkeys(engine.fields.range_ids(schema, field, lo, hi, True, False)))
        if not ids:
            continue
        for record in engine.iter_ids(iter(ids)):
            if record.get("deleted_at"):
                continue
            modified = parse_timestamp(record["modified_at"]) or window.start
            created = parse_timestamp(record["created_at"]) or window.start
            when = modified if window.start <= modified < window.end else created
            items.append(Item(record["id"], schema.short_name, when, item_text(schema.embedding_fields, record),
                              record))
    items.sort(key=lambda i: (i.time, i.id))
    return items
