"""The read tools: lookup, search, query, traverse, get, ask, list_schemas, describe_schema.

Each is a thin call into one :class:`~rem_db.Database` method; the docstrings are the descriptions a model
reads, and the ``Field`` descriptions become the JSON input schema of each parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult
from pydantic import Field

from .results import capped_object, capped_rows
from .tools import READ, Tools, tool

if TYPE_CHECKING:
    from rem_db import Database

Params = Annotated[list[Any] | dict[str, Any] | None, Field(
    description="Values for the parameters in the text: a list for `?` placeholders, an object for `:name` "
                "ones. Values are bound, never pasted into the text.")]
IncludeDeleted = Annotated[bool, Field(description="Also return soft-deleted entities.")]
EntityRef = Annotated[str, Field(description="An entity id (UUID), or a key that names exactly one entity "
                                             "(its uri, key field, `key` or `name`).", min_length=1)]


def register(app: FastMCP, tools: Tools) -> None:
    limits = tools.config.limits

    @tool(app, READ, "Look up entities by key")
    async def lookup(
        key: Annotated[str, Field(description="The exact key value: a uri, a table's key field value, `key` or "
                                              "`name` (e.g. 'PP-1001-SM', 'doc://notes/1', 'Ada Lovelace').",
                                  min_length=1)],
        fuzzy: Annotated[bool, Field(description="Also match despite typos, other letter case or word order; "
                                                 "results then carry `_score` (1.0 = exact, 0.75-0.99 = "
                                                 "near), best first.")] = False,
        limit: Annotated[int, Field(description="With fuzzy: at most this many matches.", ge=1, le=100)] = 10,
        include_deleted: IncludeDeleted = False,
    ) -> CallToolResult:
        """Find entities of any table by their key (uri, key field, `key` or `name`). Exact by default: the
        fastest way to fetch something whose name you know. Set fuzzy=true when the spelling may be off.
        Returns {results: [entity, ...], count}."""
        def body(db: Database) -> dict[str, Any]:
            if fuzzy:
                hits = db.lookup(key, include_deleted=include_deleted, fuzzy=True, limit=limit)
                rows = [{"_score": round(score, 4), **entity} for entity, score in hits]
            else:
                rows = db.lookup(key, include_deleted=include_deleted)
            return capped_rows(rows, limits)
        return await tools.call(body)

    @tool(app, READ, "Semantic search")
    async def search(
        query: Annotated[str, Field(description="What to look for, in plain words (a topic, a question, a "
                                                "description).", min_length=1)],
        schema: Annotated[str | None, Field(description="Only this table (see list_schemas: tables with "
                                                        "embedding_fields). Default: every searchable table.")]
        = None,
        top_k: Annotated[int, Field(description="How many results, best first.", ge=1, le=100)] = 10,
        where: Annotated[str | None, Field(description="A SQL condition applied before ranking, e.g. "
                                                       "\"category = 'news' AND created_at > '2025-01-01'\" "
                                                       "(needs schema).")] = None,
        params: Params = None,
        hybrid: Annotated[bool, Field(description="Fuse keyword (BM25) ranking with the vector ranking: "
                                                  "better for exact words, names and codes.")] = False,
    ) -> CallToolResult:
        """Search entities by meaning (vector similarity over their embedded text fields). Returns
        {results: [{_score, ...entity}], count}, best first; _score is the cosine similarity (or the fused
        score with hybrid=true). Use lookup for known keys and query for exact filters."""
        def body(db: Database) -> dict[str, Any]:
            hits = db.search(query, schema=schema, top_k=top_k, where=where, hybrid=hybrid, params=params)
            return capped_rows([{"_score": round(score, 4), **entity} for entity, score in hits], limits,
                               hint="lower top_k or add a where filter")
        return await tools.call(body)

    @tool(app, READ, "Run a SQL or REM query")
    async def query(
        sql: Annotated[str, Field(description="One statement: SELECT over one table (WHERE, AND/OR, IN, LIKE, "
                                              "ORDER BY, LIMIT, OFFSET, GROUP BY with COUNT/SUM/AVG/MIN/MAX), or a "
                                              "REM form: LOOKUP 'key'[, 'key2'], SEARCH 'text' [IN table] [HYBRID] "
                                              "[WHERE condition] [LIMIT n], TRAVERSE FROM 'id-or-key' [DEPTH n] "
                                              "[DIRECTION out|in|both] [TYPE 'rel'] [LIMIT n]. Example: SELECT name, "
                                              "price FROM products WHERE price < ? ORDER BY price LIMIT 20",
                                  min_length=1)],
        params: Params = None,
        include_deleted: IncludeDeleted = False,
    ) -> CallToolResult:
        """Run a SQL SELECT (one table, no joins) or a REM form (LOOKUP, SEARCH, TRAVERSE) and return the rows:
        {results: [row, ...], count}. Use describe_schema for a table's field names. Errors name the line and
        column at fault."""
        def body(db: Database) -> dict[str, Any]:
            return capped_rows(db.query(sql, params, include_deleted=include_deleted), limits,
                               hint="add a LIMIT, a WHERE filter or select fewer fields")
        return await tools.call(body)

    @tool(app, READ, "Walk the graph")
    async def traverse(
        start: EntityRef,
        depth: Annotated[int, Field(description="Hops to walk.", ge=1, le=10)] = 1,
        direction: Annotated[Literal["out", "in", "both"], Field(
            description="Follow outgoing edges (start -> other), incoming ones, or both.")] = "out",
        rel_types: Annotated[list[str] | None, Field(
            description="Only edges of these relation types, e.g. ['contains', 'authored_by']. Default: all.")]
        = None,
        limit: Annotated[int | None, Field(description="At most this many entities.", ge=1)] = None,
        include_deleted: IncludeDeleted = False,
    ) -> CallToolResult:
        """Entities reachable from `start` along graph edges within `depth` hops, nearest first:
        {results: [{entity, depth, path: [{id, rel_type}, ...]}], count}. The start itself is not included."""
        def body(db: Database) -> dict[str, Any]:
            found = db.traverse(start, depth=depth, direction=direction, rel_type=rel_types or None,
                                limit=limit, include_deleted=include_deleted)
            return capped_rows(found, limits, hint="lower depth, give rel_types or a limit")
        return await tools.call(body)

    @tool(app, READ, "Get an entity by id")
    async def get(
        id: Annotated[str, Field(description="The entity's id (a UUID, as in the `id` field of results).",
                                 min_length=1)],
        include_deleted: IncludeDeleted = False,
    ) -> CallToolResult:
        """The entity with this id, every field (its `edges` included; embedding vectors never). Use lookup to
        find an entity by name or key instead."""
        def body(db: Database) -> dict[str, Any]:
            return capped_object(db.get(id, include_deleted=include_deleted), limits)
        return await tools.call(body)

    @tool(app, READ, "Ask a question in plain words")
    async def ask(
        question: Annotated[str, Field(description="The question, e.g. 'which products under 20 euros are "
                                                   "tagged garden?'", min_length=1)],
        schema: Annotated[str | None, Field(description="The table the question is most likely about (a "
                                                        "hint; others may still be used).")] = None,
        execute: Annotated[bool, Field(description="false: only return the query plan, run nothing.")] = True,
        max_stages: Annotated[int, Field(description="Queries to try at most: the plan's primary query, then "
                                                     "its fallbacks.", ge=1, le=10)] = 3,
    ) -> CallToolResult:
        """Turn a question into a query plan (LOOKUP, SEARCH, TRAVERSE or SQL, with fallbacks) and run it:
        {results, count, query, query_type, confidence, stages, stage_results, explanation, plan, planner}.
        Uses the server's configured model, else an offline planner. Prefer the direct tools when you know
        which query you want."""
        def body(db: Database) -> dict[str, Any]:
            out = db.ask(question, execute=execute, schema=schema, max_stages=max_stages)
            if "results" not in out:
                return capped_object(out, limits)
            rows = out.pop("results")
            return capped_rows(rows, limits, extra=out, hint="ask a narrower question or use query with LIMIT")
        return await tools.call(body)

    @tool(app, READ, "List the tables")
    async def list_schemas(
        category: Annotated[Literal["system", "agents", "public", "user"] | None, Field(
            description="Only tables of this category. Default: all.")] = None,
    ) -> CallToolResult:
        """Every table: {results: [{name, description, category, rows, key_field, indexed_fields,
        embedding_fields, searchable}], count}. key_field is what lookup matches, embedding_fields what search
        ranks (searchable = has any), indexed_fields what query filters fast."""
        def body(db: Database) -> dict[str, Any]:
            rows = [{"name": s["short_name"], "description": s.get("description"), "category": s.get("category"),
                     "rows": db.count(s["short_name"]), "key_field": s.get("key_field"),
                     "indexed_fields": s.get("indexed_fields") or [],
                     "embedding_fields": s.get("embedding_fields") or [],
                     "searchable": bool(s.get("embedding_fields"))}
                    for s in db.list_schemas(category)]
            return capped_rows(rows, limits)
        return await tools.call(body)

    @tool(app, READ, "Describe a table")
    async def describe_schema(
        name: Annotated[str, Field(description="The table's name, as list_schemas gives it.", min_length=1)],
    ) -> CallToolResult:
        """One table in full: its settings (key_field, indexed_fields, embedding_fields, version, ...), rows,
        `fields` (name, type, required, default, flags: key / indexed / embedded), the JSON Schema rows are
        validated against, and the versions registered."""
        def body(db: Database) -> dict[str, Any]:
            described = dict(db.get_schema(name))
            history = described.pop("history", None) or []
            described["versions"] = [h.get("version") for h in history if isinstance(h, dict)]
            described["rows"] = db.count(name)
            described["fields"] = db.schema_fields(name)
            return capped_object(described, limits)
        return await tools.call(body)
