"""EXPLAIN: the steps a query ran, with estimated and actual row counts, and SQL renderings of plan parts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .plan import And, Between, Compare, Const, Expr, Field, InList, IsNull, Like, Not, Operand, Or, Param, Truth
from .values import describe

MAX_IN_SHOWN = 5


class Trace:
    """Collects the steps of one execution (always on: it costs a few dict appends per query)."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.statement = ""
        self.table: str | None = None
        self.access = ""
        self.steps: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def step(self, operation: str, detail: str | Callable[[], str] = "", estimated: int | None = None,
             actual: int | None = None) -> dict[str, Any]:
        """Record a step; ``detail`` may be a callable, rendered only if the trace is shown."""
        entry = {"step": len(self.steps) + 1, "operation": operation, "detail": detail,
                 "estimated_rows": estimated, "actual_rows": actual}
        self.steps.append(entry)
        return entry

    def result(self, rows: int) -> dict[str, Any]:
        for entry in self.steps:
            if callable(entry["detail"]):
                entry["detail"] = entry["detail"]()
        first = self.steps[0] if self.steps else {}
        return {
            "query": self.query,
            "statement": self.statement,
            "table": self.table,
            "access": self.access,
            "estimated_rows": first.get("estimated_rows"),
            "actual_rows": first.get("actual_rows"),
            "rows_returned": rows,
            "time_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "steps": self.steps,
        }


def operand(op: Operand) -> str:
    if isinstance(op, Field):
        return op.name
    if isinstance(op, Param):
        return op.label
    assert isinstance(op, Const)
    return describe(op.value)


def render(expr: Expr | None) -> str:
    """A WHERE expression as SQL text (long IN lists shortened)."""
    if expr is None:
        return ""
    if isinstance(expr, And):
        return " AND ".join(_wrap(e, Or) for e in expr.items)
    if isinstance(expr, Or):
        return " OR ".join(_wrap(e, And) for e in expr.items)
    if isinstance(expr, Not):
        if isinstance(expr.item, IsNull):
            return f"{operand(expr.item.expr)} IS NOT NULL"
        return f"NOT ({render(expr.item)})"
    if isinstance(expr, Compare):
        return f"{operand(expr.left)} {expr.op} {operand(expr.right)}"
    if isinstance(expr, InList):
        shown = [operand(i) for i in expr.items[:MAX_IN_SHOWN]]
        if len(expr.items) > MAX_IN_SHOWN:
            shown.append(f"… {len(expr.items)} values")
        return f"{operand(expr.expr)} IN ({', '.join(shown)})"
    if isinstance(expr, Between):
        return f"{operand(expr.expr)} BETWEEN {operand(expr.low)} AND {operand(expr.high)}"
    if isinstance(expr, Like):
        op = "ILIKE" if expr.insensitive else "LIKE"
        esc = f" ESCAPE {describe(expr.escape)}" if expr.escape else ""
        return f"{operand(expr.expr)} {op} {operand(expr.pattern)}{esc}"
    if isinstance(expr, IsNull):
        return f"{operand(expr.expr)} IS NULL"
    if isinstance(expr, Truth):
        return operand(expr.expr)
    raise AssertionError(f"unknown expression {expr!r}")


def _wrap(expr: Expr, other: type) -> str:
    text = render(expr)
    return f"({text})" if isinstance(expr, other) else text
