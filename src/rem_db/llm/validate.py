"""The ``validate`` probe: does every query of a plan parse and check against the schemas? Nothing is run.

A query is parsed by the query engine (syntax, REM forms), its parameters are matched to the ones it uses,
and then: a SELECT is prepared against its table (unknown table or column, wrong literal type, aggregate
rules) with its bound condition checked; a SEARCH's table must exist and hold searchable text, its condition
is checked against it; LOOKUP and TRAVERSE need nothing more (a start that does not exist is an empty
result, not an invalid plan).
"""

from __future__ import annotations

from collections.abc import Callable

from ..entities.engine import EntityEngine
from ..errors import DatabaseError, QueryError
from ..query.binder import TableInfo, check_expr, param_values, substitute
from ..query.engine import QueryEngine
from ..query.plan import ExplainPlan, SearchPlan, SelectPlan
from ..query.prepared import prepare
from ..query.tables import find_schema
from ..schema.registry import SchemaRegistry
from .plan import PlanQuery, QueryPlan


def check_query(query: PlanQuery, queries: QueryEngine, schemas: SchemaRegistry, entities: EntityEngine) -> None:
    """Raise the :class:`~rem_db.DatabaseError` running ``query`` would raise before reading any row."""
    parsed = queries.parse(query.query_string)
    values = param_values(parsed, query.parameters or None)
    stmt = parsed.statement.inner if isinstance(parsed.statement, ExplainPlan) else parsed.statement
    text = parsed.text
    if isinstance(stmt, SelectPlan):
        schema = find_schema(schemas, stmt.table, text, stmt.table_pos)
        info = TableInfo(schema, entities.field_names)
        prepare(stmt, info, text, static=not values)
        if stmt.where is not None and values:
            bound = substitute(stmt.where, values, text)
            if bound is not None:
                check_expr(bound, info, text)
    elif isinstance(stmt, SearchPlan) and stmt.table is not None:
        schema = find_schema(schemas, stmt.table, text, stmt.table_pos)
        if not schema.embedding_fields:
            raise QueryError(f"table {stmt.table!r} has no embedding fields, so SEARCH cannot run in it")
        if stmt.where is not None:
            bound = substitute(stmt.where, values, text) if values else stmt.where
            if bound is not None:
                check_expr(bound, TableInfo(schema, entities.field_names), text)


def validator(queries: Callable[[], QueryEngine], schemas: SchemaRegistry,
              entities: EntityEngine) -> Callable[[QueryPlan], str | None]:
    """``validate(plan)``: ``None`` when every query checks, else the first problem, naming the query."""

    def validate(plan: QueryPlan) -> str | None:
        engine = queries()
        for where, query in (("primary_query", plan.primary_query),
                             *((f"fallback_queries[{n}]", q) for n, q in enumerate(plan.fallback_queries))):
            try:
                check_query(query, engine, schemas, entities)
            except DatabaseError as exc:
                return f"{where} ({query.query_string!r}): {exc}"
        return None

    return validate
