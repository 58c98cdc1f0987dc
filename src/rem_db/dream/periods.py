"""Grouping a window's rows into periods of activity: a new period starts after a quiet gap, or when the
current one holds :data:`MAX_PERIOD_ITEMS` rows (a bulk load becomes several moments, not one hub)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..storage.codec import format_timestamp
from .window import Item

#: a quiet gap longer than this ends a period
GAP = timedelta(minutes=30)
#: rows of one period at most
MAX_PERIOD_ITEMS = 200


@dataclass
class Period:
    """Consecutive rows with no quiet gap between them."""

    index: int
    items: list[Item] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.items[0].time

    @property
    def end(self) -> datetime:
        return self.items[-1].time

    def tables(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.table] = counts.get(item.table, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start": format_timestamp(self.start), "end": format_timestamp(self.end),
                "items": len(self.items), "tables": self.tables()}


def group(items: list[Item], gap: timedelta = GAP, max_items: int = MAX_PERIOD_ITEMS) -> list[Period]:
    """The periods of ``items`` (in time order), numbered from 0."""
    periods: list[Period] = []
    for item in items:
        current = periods[-1] if periods else None
        if current is None or item.time - current.end > gap or len(current.items) >= max_items:
            current = Period(len(periods))
            periods.append(current)
        current.items.append(item)
    return periods
