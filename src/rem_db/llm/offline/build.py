"""Query text for the offline planner's plans. Every value from the question becomes a ``:pN`` parameter; names
(tables, fields) come from the schemas only and are double-quoted, so nothing the user typed reaches the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..plan import Dialect, PlanQuery

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Condition:
    """``field op value``; ``op`` is ``= != < <= > >= IN NOT IN``."""

    field: str
    op: str
    value: Any
    #: token indexes of the question this condition understood
    tokens: frozenset[int] = frozenset()

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value!r}"


@dataclass
class Params:
    """Names the values of one query ``:p1``, ``:p2`` … in order of use."""

    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        name = f"p{len(self.values) + 1}"
        self.values[name] = value
        return f":{name}"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _condition(cond: Condition, params: Params) -> str:
    column = ".".join(quoted(part) for part in cond.field.split("."))
    if cond.op in ("IN", "NOT IN"):
        return f"{column} {cond.op} ({', '.join(params.add(v) for v in cond.value)})"
    return f"{column} {cond.op} {params.add(cond.value)}"


def where_text(conds: list[Condition], params: Params) -> str:
    return " AND ".join(_condition(c, params) for c in conds)


@dataclass
class Select:
    """The parts of one SELECT."""

    table: str
    conditions: list[Condition] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # raw select items (aggregates, quoted fields); empty: *
    group_by: str | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (raw item, descending)
    limit: int | None = None

    def query(self) -> PlanQuery:
        params = Params()
        sql = f"SELECT {', '.join(self.columns) or '*'} FROM {quoted(self.table)}"
        if self.conditions:
            sql += " WHERE " + where_text(self.conditions, params)
        if self.group_by:
            sql += f" GROUP BY {quoted(self.group_by)}"
        if self.order_by:
            sql += " ORDER BY " + ", ".join(f"{item} {'DESC' if desc else 'ASC'}" for item, desc in self.order_by)
        if self.limit is not None:
            sql += f" LIMIT {int(self.limit)}"
        return PlanQuery(dialect=Dialect.sql, query_string=sql, parameters=params.values)


def search(text: str, table: str | None, conds: list[Condition] | None = None, limit: int = DEFAULT_LIMIT,
           hybrid: bool = True) -> PlanQuery:
    """``SEARCH :p1 [IN table] [HYBRID] [WHERE …] LIMIT n``."""
    params = Params()
    query = f"SEARCH {params.add(text)}"
    if table:
        query += f" IN {quoted(table)}"
    if hybrid:
        query += " HYBRID"
    if conds:
        query += " WHERE " + where_text(conds, params)
    query += f" LIMIT {int(limit)}"
    return PlanQuery(dialect=Dialect.rem, query_string=query, parameters=params.values)


def lookup(keys: list[str]) -> PlanQuery:
    params = Params()
    return PlanQuery(dialect=Dialect.rem, query_string="LOOKUP " + ", ".join(params.add(k) for k in keys),
                     parameters=params.values)


def traverse(start: str, rel_type: str | None, direction: str, depth: int = 1) -> PlanQuery:
    params = Params()
    query = f"TRAVERSE FROM {params.add(start)} DEPTH {int(depth)} DIRECTION {direction}"
    if rel_type:
        query += f" TYPE {params.add(rel_type)}"
    return PlanQuery(dialect=Dialect.rem, query_string=query, parameters=params.values)
