"""The query engine of one open database: parse (with an LRU cache of plans by query text), bind
parameters, check against the schema, execute, explain. It reads through its :class:`~.ports.QuerySources`
only."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ..errors import QueryError
from ..schema.model import TableSchema
from .binder import TableInfo, check_expr, param_values, substitute
from .executor import SelectRun
from .explain import Trace, render
from .filters import BoundWhere, Filter
from .forms import run_lookup, run_search, run_traverse
from .parse import parse
from .plan import (
    Aggregate,
    Column,
    ExplainPlan,
    LookupPlan,
    Parsed,
    SearchPlan,
    SelectPlan,
    Statement,
    TraversePlan,
)
from .ports import QuerySources
from .positions import check_text
from .predicates import Compiler
from .prepared import PreparedSelect, prepare
from .scan import table_count
from .simple_where import simple_condition
from .sql import Counter, parse_where
from .tables import find_schema

CACHE_SIZE = 512


class PlanCache:
    """Parsed queries by their exact text, least recently used evicted first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return item

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class QueryEngine:
    """``query`` / ``explain`` / ``count`` / ``filter`` over one database's :class:`~.ports.QuerySources`."""

    def __init__(self, sources: QuerySources, cache_size: int = CACHE_SIZE) -> None:
        self.sources = sources
        self.cache = PlanCache(cache_size)

    # -- parsing -------------------------------------------------------------------------------------
    def parse(self, text: str) -> Parsed:
        """The parsed plan of ``text`` (cached by exact text)."""
        parsed = self.cache.get(text) if isinstance(text, str) else None
        if parsed is None:
            try:
                parsed = parse(text)
            except RecursionError:
                raise QueryError("the query nests too deeply") from None
            self.cache.put(text, parsed)
        return parsed

    def _schema(self, table: str, text: str | None, pos: int) -> TableSchema:
        return find_schema(self.sources.schemas, table, text, pos)

    def _prepared(self, parsed: Parsed, plan: SelectPlan) -> PreparedSelect:
        schema = self._schema(plan.table, parsed.text, plan.table_pos)
        prep = parsed.cache.get(id(plan))
        if prep is None or prep.table.schema is not schema:
            static = not parsed.positional and not parsed.named
            prep = prepare(plan, TableInfo(schema, self.sources.entities.field_names), parsed.text, static)
            parsed.cache[id(plan)] = prep
        return prep

    # -- running -------------------------------------------------------------------------------------
    def run(self, text: str, params: Any = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        parsed = self.parse(text)
        values = param_values(parsed, params)
        stmt = parsed.statement
        trace = Trace(parsed.text)
        if isinstance(stmt, ExplainPlan):
            rows = self._execute(parsed, stmt.inner, values, include_deleted, trace)
            result = trace.result(len(rows))
            return [{**step, "access": result["access"]} for step in result["steps"]]
        return self._execute(parsed, stmt, values, include_deleted, trace)

    def explain(self, text: str, params: Any = None, include_deleted: bool = False) -> dict[str, Any]:
        parsed = self.parse(text)
        values = param_values(parsed, params)
        stmt = parsed.statement
        if isinstance(stmt, ExplainPlan):
            stmt = stmt.inner
        trace = Trace(parsed.text)
        rows = self._execute(parsed, stmt, values, include_deleted, trace)
        return trace.result(len(rows))

    def _execute(self, parsed: Parsed, stmt: Statement, values: dict[int | str, Any], include_deleted: bool,
                 trace: Trace) -> list[dict[str, Any]]:
        try:
            if isinstance(stmt, SelectPlan):
                prep = self._prepared(parsed, stmt)
                return SelectRun(self.sources.entities, prep, values, include_deleted, trace).run()
            if isinstance(stmt, LookupPlan):
                return run_lookup(self.sources.forms, stmt, parsed, values, include_deleted, trace)
            if isinstance(stmt, SearchPlan):
                return run_search(self.sources, stmt, parsed, values, include_deleted, trace)
            if isinstance(stmt, TraversePlan):
                return run_traverse(self.sources.forms, stmt, parsed, values, include_deleted, trace)
        except RecursionError:
            raise QueryError("the query nests too deeply") from None
        raise QueryError("EXPLAIN cannot be nested")

    # -- helpers for other features --------------------------------------------------------------------
    def _where(self, table: str, where: str) -> Parsed:
        key = ("where", table, where)
        parsed = self.cache.get(key)
        if parsed is None:
            if not isinstance(where, str):
                raise QueryError(f"a WHERE condition is a string, not {type(where).__name__}")
            check_text(where)
            counter = Counter(where)
            expr = simple_condition(where)  # the commonest shape, without sqlglot (query/simple_where.py)
            if expr is None:
                try:
                    expr = parse_where(where, 0, len(where), counter, table)
                except RecursionError:
                    raise QueryError("the condition nests too deeply") from None
            plan = SelectPlan(table=table, columns=(Column("count(*)", Aggregate("count", None)),), where=expr)
            parsed = Parsed(where, plan, counter.positional, tuple(counter.named))
            self.cache.put(key, parsed)
        return parsed

    def count(self, table: str, where: str | None = None, params: Any = None,
              include_deleted: bool = False) -> int:
        """``SELECT COUNT(*) FROM table WHERE <where>`` (``where`` is a condition, parameters bound)."""
        self._schema(table, None, -1)
        if where is None or not str(where).strip():
            return table_count(self.sources.entities, table, include_deleted)
        parsed = self._where(table, where)
        values = param_values(parsed, params)
        rows = self._execute(parsed, parsed.statement, values, include_deleted, Trace(where))
        return int(rows[0]["count(*)"])

    def filter(self, table: str, where: str | BoundWhere | None, params: Any = None) -> Filter:
        """Compile ``where`` (SQL condition text, ``?`` / ``:name`` parameters bound from ``params``; or a
        :class:`BoundWhere`) for ``table``: see :mod:`.filters`. Raises :class:`~rem_db.QueryError` naming
        the position of a syntax error, an unknown column or a type mismatch."""
        info = TableInfo(self._schema(table, None, -1), self.sources.entities.field_names)
        if isinstance(where, BoundWhere):
            expr, text = where.expr, str(where)
            check_expr(expr, info, text)
        elif where is None or not str(where).strip():
            if params:
                raise QueryError("parameters were given without a WHERE condition")
            return Filter(self.sources.entities, info, None, lambda row: True, "")
        else:
            parsed = self._where(table, str(where))
            values = param_values(parsed, params)
            plan = parsed.statement
            assert isinstance(plan, SelectPlan)
            bound = substitute(plan.where, values, parsed.text) if values else plan.where
            assert bound is not None  # a WHERE condition parses to an expression
            expr, text = bound, parsed.text if not values else render(bound)
            check_expr(expr, info, parsed.text)
        pred = Compiler(info, text).compile(expr)
        return Filter(self.sources.entities, info, expr, pred, text)

