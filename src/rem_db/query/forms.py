"""Running the REM forms through the :class:`~.ports.FormBackend`: LOOKUP on the key index, SEARCH through
vector search, TRAVERSE through the graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .binder import TableInfo, bind_count, check_expr, plain_value, substitute
from .explain import Trace, render
from .filters import BoundWhere
from .plan import Const, LookupPlan, Param, Parsed, SearchPlan, TraversePlan
from .ports import FormBackend, QuerySources
from .positions import error
from .rem_forms import DIRECTIONS, MAX_DEPTH, check_depth
from .tables import find_schema

DEFAULT_SEARCH_LIMIT = 10


def _value(op: Const | Param, values: Mapping[int | str, Any], text: str, what: str) -> str:
    value = plain_value(values[op.key], op.label, text, op.pos) if isinstance(op, Param) else op.value
    if not isinstance(value, str):
        raise error(f"{what} must be a string, got {value!r}", text, op.pos)
    return value


def run_lookup(forms: FormBackend, plan: LookupPlan, parsed: Parsed, values: Mapping[int | str, Any],
               include_deleted: bool, trace: Trace) -> list[dict[str, Any]]:
    """``LOOKUP 'key', …``: the entities of any table with one of the keys, each once, in key order."""
    keys = [_value(k, values, parsed.text, "a LOOKUP key") for k in plan.keys]
    trace.statement, trace.access = "lookup", "key-index"
    step = trace.step("key lookup", ", ".join(repr(k) for k in keys), len(keys), 0)
    found = forms.lookup_batch(keys, include_deleted=include_deleted)
    seen: dict[str, dict[str, Any]] = {}
    for key in keys:
        for entity in found.get(key, []):
            seen.setdefault(entity["id"], entity)
    step["actual_rows"] = len(seen)
    return list(seen.values())


def run_search(sources: QuerySources, plan: SearchPlan, parsed: Parsed, values: Mapping[int | str, Any],
               include_deleted: bool, trace: Trace) -> list[dict[str, Any]]:
    """``SEARCH 'text' [IN table] [WHERE …] [LIMIT n]``: the best matches with their ``_score``; the table
    and its condition are checked here, the condition travels to the search bound (a :class:`BoundWhere`)."""
    text = parsed.text
    query = _value(plan.text, values, text, "the SEARCH text")
    limit = bind_count(plan.limit, values, "LIMIT", text, minimum=1) or DEFAULT_SEARCH_LIMIT
    where: str | None = None
    if plan.where is not None:
        bound = substitute(plan.where, values, text)
        assert bound is not None
        if plan.table is not None:
            check_expr(bound, TableInfo(find_schema(sources.schemas, plan.table, text, plan.table_pos),
                                        sources.entities.field_names), text)
        where = BoundWhere(render(bound), bound) if values else plan.where_text
    elif plan.table is not None:
        find_schema(sources.schemas, plan.table, text, plan.table_pos)
    trace.statement, trace.table, trace.access = "search", plan.table, "vector"
    kind = "hybrid search" if plan.hybrid else "vector search"
    step = trace.step(kind, f"{query!r} in {plan.table or 'every embedded table'}"
                      + (f" where {render(plan.where)}" if plan.where is not None else "") + f", top {limit}",
                      limit, 0)
    results = sources.forms.search(query, schema=plan.table, top_k=limit, where=where, hybrid=plan.hybrid,
                                   include_deleted=include_deleted)
    rows = [{**entity, "_score": score} for entity, score in results]
    step["actual_rows"] = len(rows)
    return rows


def run_traverse(forms: FormBackend, plan: TraversePlan, parsed: Parsed, values: Mapping[int | str, Any],
                 include_deleted: bool, trace: Trace) -> list[dict[str, Any]]:
    """``TRAVERSE FROM 'start' …``: the entities reached, with ``_depth`` and ``_path``."""
    text = parsed.text
    start = _value(plan.start, values, text, "the TRAVERSE start")
    depth = 1
    if plan.depth is not None:
        raw = values[plan.depth.key] if isinstance(plan.depth, Param) else plan.depth.value
        depth = check_depth(raw, text, plan.depth.pos)
    rel: str | list[str] | None = None
    if plan.rel_type is not None:
        rel = _value(plan.rel_type, values, text, "TYPE")
        if plan.more_types:
            rel = [rel, *(_value(t, values, text, "TYPE") for t in plan.more_types)]
    limit = bind_count(plan.limit, values, "LIMIT", text, minimum=1)
    assert plan.direction in DIRECTIONS and 1 <= depth <= MAX_DEPTH
    trace.statement, trace.access = "traverse", "graph"
    step = trace.step("graph traversal", f"from {start!r}, depth {depth}, direction {plan.direction}"
                      + (f", type {rel!r}" if rel else "") + (f", limit {limit}" if limit else ""), None, 0)
    found = forms.traverse(start, depth=depth, direction=plan.direction, rel_type=rel, limit=limit,
                     include_deleted=include_deleted)
    rows = [{**item["entity"], "_depth": item["depth"], "_path": item["path"]} for item in found]
    step["actual_rows"] = len(rows)
    return rows

