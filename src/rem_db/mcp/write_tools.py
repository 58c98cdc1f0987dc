"""The write tools of ``rem mcp --write``: insert, add_edge, and ingest (files under ``--root`` only).

No ``from __future__ import annotations`` here: ingest's parameter descriptions name the root folder, so its
annotations are built when ``register`` runs (FastMCP could not evaluate them later from the module's names).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult
from pydantic import Field

from .results import capped_object, capped_rows
from .tools import WRITE, ToolFailure, Tools, tool

if TYPE_CHECKING:
    from rem_db import Database

EntityRef = Annotated[str, Field(description="An entity id (UUID), or a key that names exactly one entity "
                                             "(its uri, key field, `key` or `name`).", min_length=1)]


def inside_root(root: Path, given: str) -> Path:
    """``given`` (absolute, or relative to ``root``) resolved with every symbolic link followed; a
    :class:`ToolFailure` unless the result is ``root`` or inside it."""
    base = root.resolve()
    target = (base / Path(given).expanduser()).resolve()
    if target != base and base not in target.parents:
        raise ToolFailure(f"path {given!r} is outside the folder this server may ingest from ({base}); "
                          f"give a path inside it")
    return target


def register(app: FastMCP, tools: Tools) -> None:
    limits = tools.config.limits
    root = tools.config.root

    @tool(app, WRITE, "Insert entities")
    async def insert(
        table: Annotated[str, Field(description="The table (see list_schemas).", min_length=1)],
        data: Annotated[dict[str, Any] | list[dict[str, Any]], Field(
            description="One row as a JSON object of the table's fields (see describe_schema), or a list of "
                        "rows inserted atomically (all or none). A row whose key (or id) exists replaces it.")],
    ) -> CallToolResult:
        """Insert (or replace) entities in a table; rows are validated against its schema and their text
        embedded. Returns {results: [entity, ...], count, inserted}."""
        def body(db: "Database") -> dict[str, Any]:
            rows = db.insert_batch(table, data) if isinstance(data, list) else [db.insert(table, data)]
            return capped_rows(rows, limits, extra={"inserted": len(rows)})
        return await tools.call(body)

    @tool(app, WRITE, "Link two entities")
    async def add_edge(
        src: EntityRef,
        dst: EntityRef,
        rel_type: Annotated[str, Field(description="The relation, a short verb phrase such as 'authored_by', "
                                                   "'contains', 'related_to'.", min_length=1)],
        properties: Annotated[dict[str, Any] | None, Field(
            description="Optional edge properties, e.g. {\"weight\": 0.8}.")] = None,
    ) -> CallToolResult:
        """Add the edge src -[rel_type]-> dst (or replace its properties); both entities must exist. Returns
        the edge {src, dst, rel_type, properties, created_at}."""
        def body(db: "Database") -> dict[str, Any]:
            return capped_object(db.add_edge(src, dst, rel_type, properties), limits)
        return await tools.call(body)

    if root is None:
        return
    allowed: Path = root
    shown_root = str(root.resolve())

    async def ingest(
        path: Annotated[str, Field(description=f"A file or folder inside {shown_root} (absolute, or relative "
                                               f"to it).", min_length=1)],
        schema: Annotated[str | None, Field(description="Table for the chunks (default: resources); records "
                                                        "files (JSON, JSONL, CSV) need it: their rows go "
                                                        "there.")] = None,
        recursive: Annotated[bool, Field(description="For a folder: include its subfolders.")] = False,
        glob: Annotated[str | None, Field(description="For a folder: only files matching this pattern, e.g. "
                                                      "'*.pdf'.")] = None,
        category: Annotated[str | None, Field(description="Category stored on the documents and chunks.")]
        = None,
        tags: Annotated[list[str] | None, Field(description="Tags stored on the documents and chunks.")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="Extra metadata merged into each "
                                                                     "document and chunk.")] = None,
    ) -> CallToolResult:
        def body(db: "Database") -> dict[str, Any]:
            target = inside_root(allowed, path)
            report = db.ingest(target, schema, recursive=recursive, glob=glob, category=category, tags=tags,
                               metadata=metadata)
            done = report.to_dict()
            return capped_rows(done["files"], limits, extra={"summary": done["summary"]},
                               hint="the summary counts every file")
        return await tools.call(body)

    ingest.__doc__ = (
        f"Read documents (text, Markdown, HTML, PDF, DOCX, XLSX) into searchable chunks, or records files "
        f"(JSON, JSONL, CSV) into a table. Only files inside {shown_root} can be read. An unchanged file is "
        f"skipped, a changed one replaced. Returns {{summary, results: [{{path, status, chunks, rows, reason}}], "
        f"count}}; status is added, updated, unchanged, skipped or failed.")
    tool(app, WRITE, "Ingest files")(ingest)
