"""GROUP BY and the aggregates COUNT(*), COUNT(col), SUM, AVG, MIN, MAX with SQL semantics.

* NULLs are skipped by every aggregate but ``COUNT(*)``; over no values SUM/AVG/MIN/MAX are NULL and
  COUNT is 0. Without GROUP BY an aggregate query returns exactly one row, even over no rows.
* SUM of integers is an exact integer; with any float it is a correctly rounded float (``math.fsum``).
  AVG is a float.
* Overflow: a SUM that cannot be represented (integers beyond 64 bits, floats beyond ±1.8e308) is a
  :class:`~rem_db.QueryError` naming the aggregate. We chose an error over ``inf`` (or a silent switch to
  float) because JSON has no ``inf`` (the CLI would print ``null``), a 64-bit-plus integer cannot be
  stored or printed as JSON, and an infinite total is never the answer the user asked for. AVG never
  overflows: the mean of representable values is representable, so it is computed exactly when the
  running float sum overflows. SUM/AVG of a non-number is a :class:`~rem_db.QueryError`, never a silent skip.
* MIN/MAX use the typed order of :mod:`.values` and return the stored value (a timestamp keeps its text).
* Groups are keyed by typed value: ``1`` and ``1.0`` are one group, ``true`` and ``1`` are not, and
  timestamps that denote the same instant are one group; all NULLs form one group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

from ..storage.codec import INT_MAX, INT_MIN
from .positions import error
from .predicates import getter
from .values import describe, typed_key

Row = dict[str, Any]


class AggSpec:
    """One aggregate to compute: function, argument reader and output name."""

    __slots__ = ("func", "get", "label", "name", "path", "timestamp")

    def __init__(self, func: str, path: tuple[str, ...] | None, name: str, timestamp: bool, label: str) -> None:
        self.func = func
        self.path = path
        self.get = getter(path) if path is not None else None
        self.name = name
        self.timestamp = timestamp
        self.label = label  # e.g. SUM(price), for messages

    def compute(self, rows: list[Row], text: str | None) -> Any:
        if self.get is None:
            return len(rows)
        get = self.get
        values = [v for v in (get(r) for r in rows) if v is not None]
        if self.func == "count":
            return len(values)
        if not values:
            return None
        if self.func in ("sum", "avg"):
            return self.total(values, text)
        ts = self.timestamp
        best, best_key = values[0], typed_key(values[0], ts)
        for v in values[1:]:
            k = typed_key(v, ts)
            if (k < best_key) if self.func == "min" else (k > best_key):  # type: ignore[operator]
                best, best_key = v, k
        return best

    def total(self, values: list[Any], text: str | None) -> Any:
        """SUM or AVG of non-null ``values`` (at least one)."""
        for v in values:
            if v.__class__ is not int and v.__class__ is not float:
                raise error(f"{self.label} needs numbers, but a row has {describe(v)}", text)
        if all(v.__class__ is int for v in values):
            total: Any = sum(values)
            if self.func == "avg":
                return total / len(values)
            if not INT_MIN <= total <= INT_MAX:
                raise error(f"{self.label} overflows: the total {total} is outside the 64-bit integer range "
                            f"that results are stored and printed in", text)
            return total
        try:
            total = math.fsum(values)
        except OverflowError:  # a partial sum passed the largest float; the exact sum decides
            exact = sum(map(Fraction, values), Fraction(0))
            try:
                return float(exact) if self.func == "sum" else float(exact / len(values))
            except OverflowError:
                raise error(f"{self.label} overflows: the total is beyond the largest float (about 1.8e308)",
                            text) from None
        return total if self.func == "sum" else total / len(values)


def group_rows(rows: Iterable[Row], keys: list[tuple[Callable[[Row], Any], bool]]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows by their typed group key, in order of first appearance."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    if len(keys) == 1:
        (get, ts), = keys
        for row in rows:
            k: tuple[Any, ...] = (typed_key(get(row), ts),)
            bucket = groups.get(k)
            if bucket is None:
                groups[k] = [row]
            else:
                bucket.append(row)
        return groups
    for row in rows:
        k = tuple(typed_key(get(row), ts) for get, ts in keys)
        groups.setdefault(k, []).append(row)
    return groups
