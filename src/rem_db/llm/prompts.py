"""What the LLM planner sends: the system prompt (the query grammar and the rules), the question with the offered
schemas, the repair message, and the structured-output schema of a plan.

The wire schema differs from :class:`~.plan.QueryPlan` in one place: ``parameters`` is a list of ``{"name",
"value"}`` pairs, because strict structured output (OpenAI, Cerebras) cannot describe an object with free keys.
:func:`plan_data` turns either form into the QueryPlan's mapping.
"""

from __future__ import annotations

from typing import Any

from .context import PlanContext
from .plan import Dialect, ExecutionMode, QueryType, Trigger

SYSTEM_PROMPT = """\
You turn a question about a database into a query plan. The database holds tables of JSON entities, \
a key index over every table and a graph of typed edges between entities.

Query languages (the plan's "dialect"):
- "sql": one read-only SELECT over ONE table:
  SELECT * | col [AS a], ... | COUNT(*) | COUNT(col) | SUM|AVG|MIN|MAX(col) FROM table [WHERE cond]
  [GROUP BY col, ...] [ORDER BY col|alias|aggregate [ASC|DESC]] [LIMIT n] [OFFSET n]
  cond: = != < <= > >= AND OR NOT ( ) IN (...) BETWEEN a AND b LIKE ILIKE IS [NOT] NULL
  Columns: the listed fields, dotted paths into objects (metadata.author), and id, created_at, modified_at \
(ISO-8601 timestamps). No joins, subqueries, DISTINCT, HAVING, CASE, CAST, functions or arithmetic.
- "rem":
  LOOKUP :k [, :k2 ...]   entities whose key equals the value (any table; keys, codes, exact names)
  SEARCH :text [IN table] [WHERE cond] [LIMIT n]   semantic + keyword search over a table's searchable text
  TRAVERSE FROM :start [DEPTH 1-10] [DIRECTION out|in|both] [TYPE 'edge_type', ...] [LIMIT n]   entities \
reached along graph edges from one entity (its id or key)

query_type: "lookup" (a known key, code or exact name), "search" (a topic or description), "sql" (filters, \
counts, sums, averages, sorting), "traverse" (relations along edges), "hybrid" (SEARCH with a WHERE filter).

Rules:
1. Every value taken from the question (names, keys, words, numbers, dates, LIKE patterns such as "%pot%") is \
a parameter: write :name in query_string and add {"name": "name", "value": ...} to parameters. Never put quoted \
text from the question into query_string. Edge types after TYPE may be quoted.
2. Use only the tables, fields and edge types given. Field names are case-sensitive.
3. fallback_queries run when the query before them meets their trigger ("no_results", "error", \
"low_quality"), e.g. a SEARCH after an exact filter finds nothing; then execution_mode is "multi_stage", \
else "single_pass".
4. confidence (0 to 1): how sure you are the primary query answers the question. Below 0.6, explanation must \
say what is unclear or missing; otherwise explanation is null.
5. reasoning: one short sentence. schema_hints: the tables used. next_steps: follow-up questions, may be empty.

Answer with the plan only, one JSON object, for example:
{"query_type": "sql", "confidence": 0.9, "primary_query": {"dialect": "sql", "query_string": \
"SELECT name, price FROM product WHERE category = :category AND price < :max_price ORDER BY price", \
"parameters": [{"name": "category", "value": "pots"}, {"name": "max_price", "value": 10}]}, \
"fallback_queries": [{"dialect": "rem", "query_string": "SEARCH :text IN product LIMIT 10", \
"parameters": [{"name": "text", "value": "pots under 10"}], "trigger": "no_results"}], \
"execution_mode": "multi_stage", "schema_hints": ["product"], "reasoning": "A category and a price bound on \
product.", "explanation": null, "next_steps": []}"""

REPAIR_PROMPT = """\
That plan cannot be used: {error}
Answer with the corrected plan only, one JSON object with the same fields."""

_VALUE: dict[str, Any] = {"anyOf": [
    {"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"},
    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}},
]}
_PARAMETERS: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "value": _VALUE},
    "required": ["name", "value"], "additionalProperties": False,
}}


def _query(trigger: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "dialect": {"type": "string", "enum": [d.value for d in Dialect]},
        "query_string": {"type": "string"},
        "parameters": _PARAMETERS,
    }
    if trigger:
        properties["trigger"] = {"type": "string", "enum": [t.value for t in Trigger]}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a plan as models are asked for it (strict-mode compatible: every property required,
    no free-form objects); ``title`` names it for the providers."""
    properties: dict[str, Any] = {
        "query_type": {"type": "string", "enum": [t.value for t in QueryType]},
        "confidence": {"type": "number"},
        "primary_query": _query(trigger=False),
        "fallback_queries": {"type": "array", "items": _query(trigger=True)},
        "execution_mode": {"type": "string", "enum": [m.value for m in ExecutionMode]},
        "schema_hints": {"type": "array", "items": {"type": "string"}},
        "reasoning": {"type": "string"},
        "explanation": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "next_steps": {"type": "array", "items": {"type": "string"}},
    }
    return {"title": "query_plan", "type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def question_message(context: PlanContext) -> str:
    """The user message: the offered tables, the edge types, the user's table hint, then the question (last, after
    ``Question:``, so a replaying fake server can find it)."""
    parts = ["Tables:"]
    parts += [schema.describe() for schema in context.schemas] or ["(none)"]
    edges = [name + _ends(context.edge_ends.get(name, [])) for name in context.edge_types]
    parts.append("Edge types: " + (", ".join(edges) if edges else "(none)"))
    if context.schema_hint:
        parts.append(f"The user asked to use table {context.schema_hint}.")
    parts.append(f"Question: {context.question}")
    return "\n".join(parts)


def _ends(pairs: list[tuple[str, str]], limit: int = 3) -> str:
    """`` (orders -> customers, …)``: which tables an edge type joins, so the model picks TRAVERSE's direction."""
    if not pairs:
        return ""
    shown = ", ".join(f"{source} -> {target}" for source, target in pairs[:limit])
    return f" ({shown}{', …' if len(pairs) > limit else ''})"


def repair_message(error: str) -> str:
    return REPAIR_PROMPT.format(error=error)


def plan_data(data: Any) -> Any:
    """The QueryPlan mapping of a model's answer: ``parameters`` as lists of ``{"name", "value"}`` become
    mappings (a mapping is kept as it is). Anything unexpected is left for validation to name."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for key in ("primary_query",):
        if isinstance(data.get(key), dict):
            data[key] = _query_data(data[key])
    if isinstance(data.get("fallback_queries"), list):
        data["fallback_queries"] = [_query_data(q) if isinstance(q, dict) else q for q in data["fallback_queries"]]
    return data


def _query_data(query: dict[str, Any]) -> dict[str, Any]:
    params = query.get("parameters")
    if isinstance(params, list) and all(isinstance(p, dict) and set(p) == {"name", "value"} for p in params):
        names = [p["name"] for p in params]
        if len(set(map(str, names))) == len(names):
            return {**query, "parameters": {str(p["name"]).lstrip(":"): p["value"] for p in params}}
    return query
