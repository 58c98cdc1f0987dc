"""The FastMCP app over one database: the server's instructions, argument errors, tool registration, stdio.

``build_server(handle, ...)`` returns a :class:`mcp.server.fastmcp.FastMCP` whose tools call the
:class:`~rem_db.Database` of ``handle`` on worker threads (the event loop never blocks on RocksDB, a model call
or an ingest). Each tool returns a ``CallToolResult`` itself: its JSON as text and as ``structuredContent``, or,
for a :class:`~rem_db.DatabaseError`, ``isError`` with the message the CLI prints.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
from mcp.server.fastmcp import FastMCP

from . import read_tools, write_tools
from .handle import DatabaseHandle
from .tools import ServerConfig, Tools

INSTRUCTIONS = """\
REM is a memory database: typed tables of entities (JSON objects with an `id`, `entity_type` = table, \
timestamps), each table with an optional key field (looked up exactly with `lookup`), embedded text fields \
(searched by meaning with `search`) and indexed fields (filtered with SQL in `query`), plus a graph of named \
edges between entities (`traverse`). Start with `list_schemas` to see the tables, then `describe_schema` for a \
table's fields. Use `lookup` for a known name or key, `search` for a topic, `query` for exact filters, counts \
and sorting, `ask` for a question in plain words when unsure which to use. Results are JSON, at most 100 rows; \
a result with `truncated: true` left rows out: narrow the request."""


class RemMCP(FastMCP):
    """FastMCP with argument errors a model can act on: an unknown argument is refused by name (the SDK would
    ignore it), and a wrong one is named with what was expected instead of pydantic's multi-line report."""

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        from mcp.server.fastmcp.exceptions import ToolError
        from pydantic import ValidationError

        found = self._tool_manager.get_tool(name)
        if found is not None:
            known = found.parameters.get("properties", {})
            unknown = sorted(set(arguments) - set(known))
            if unknown:
                raise ToolError(f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                                f"for {name}; its arguments are: {', '.join(known)}")
        try:
            return await super().call_tool(name, arguments)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(argument_errors(name, exc.__cause__)) from None
            raise


def argument_errors(tool_name: str, exc: Any) -> str:
    """``invalid arguments for search: top_k: Input should be greater than or equal to 1 (got 0)``."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        got = "" if error.get("type") == "missing" else f" (got {error.get('input')!r})"
        parts.append(f"{where}: {error.get('msg')}{got}")
    return f"invalid arguments for {tool_name}: " + "; ".join(parts)


def build_server(handle: DatabaseHandle, config: ServerConfig) -> FastMCP:
    """The FastMCP app: the read tools always, ``insert``/``add_edge`` with ``config.write``, and ``ingest``
    with ``config.write`` and a ``config.root``."""
    mode = "read-write" if config.write else "read-only"
    app = RemMCP(name="rem-db", instructions=INSTRUCTIONS + f"\nThis server is {mode}.",
                 host=config.host, port=config.port, log_level="WARNING")
    tools = Tools(handle, config)
    read_tools.register(app, tools)
    if config.write:
        write_tools.register(app, tools)
    return app


async def run_stdio(app: FastMCP) -> None:
    """Serve over stdin/stdout. The protocol keeps the real stdout; ``sys.stdout`` becomes stderr for the rest
    of the process, so a stray ``print`` can never corrupt the JSON-RPC stream."""
    from io import TextIOWrapper

    from mcp.server.stdio import stdio_server

    protocol_out = anyio.wrap_file(TextIOWrapper(sys.stdout.buffer, encoding="utf-8"))
    sys.stdout = sys.stderr
    server = app._mcp_server  # FastMCP's own low-level server; run_stdio_async would take sys.stdout itself
    async with stdio_server(stdout=protocol_out) as (read, write):
        await server.run(read, write, server.create_initialization_options())
