"""ORDER BY: typed sort keys, NULL placement, multi-key stable sorting.

Values order like the field index orders them (booleans < numbers < timestamps < strings < lists and
objects; see :mod:`.values`), so walking an index in key order yields rows in ORDER BY order. NULLs sort
last in both directions unless ``NULLS FIRST`` is given (DuckDB's default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .values import typed_key

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SortSpec:
    """One ORDER BY key over rows: how to read the value, and the direction."""

    get: Callable[[Row], Any]
    timestamp: bool
    descending: bool
    nulls_first: bool

    def key(self) -> Callable[[Row], tuple[Any, ...]]:
        """A sort key for ``list.sort(reverse=descending)``: NULLs at the requested end."""
        get, ts = self.get, self.timestamp
        null = (0,) if self.nulls_first != self.descending else (2,)

        def key(row: Row) -> tuple[Any, ...]:
            k = typed_key(get(row), ts)
            return null if k is None else (1, k[0], k[1])
        return key


def sort_rows(rows: list[Row], specs: list[SortSpec]) -> None:
    """Sort in place by several keys (stable passes from the last key to the first)."""
    for spec in reversed(specs):
        rows.sort(key=spec.key(), reverse=spec.descending)


def same_first_key(spec: SortSpec) -> Callable[[Row, Row], bool]:
    """Whether two rows tie on a key (for completing a tie group when stopping early)."""
    key = spec.key()
    return lambda a, b: key(a) == key(b)
