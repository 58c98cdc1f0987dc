"""`rem mcp` (SPEC §17): serve the database to AI agents over the Model Context Protocol (docs/mcp.md).

The MCP SDK is imported only when the command runs, so `rem` starts fast and works without the `mcp` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from click.core import ParameterSource

from .errors import CliError
from .state import state_of

MISSING_SDK = "rem mcp needs the mcp extra: pip install 'rem-db[mcp]'"


def mcp(
    ctx: typer.Context,
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of "
                                                      "stdio.")] = False,
    host: Annotated[str, typer.Option("--host", help="With --http: the address to listen on; not a loopback "
                                                     "address only with --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --http: the port (0: any free port, printed on "
                                                     "stderr).", min=0, max=65535)] = 8765,
    write: Annotated[bool, typer.Option("--write", help="Open the database read-write and offer the insert, "
                                                        "add_edge and ingest tools (default: read-only).")]
    = False,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="P8_MCP_TOKEN", show_default=False,
        help="With --http: every request must carry 'Authorization: Bearer TOKEN'.")] = None,
    root: Annotated[Path | None, typer.Option(
        "--root", show_default=False, help="With --write: the folder whose files the ingest tool may read "
                                           "(without it there is no ingest tool).")] = None,
) -> None:
    """Serve the database over the Model Context Protocol (stdio by default) for Claude Desktop, Cursor or
    any MCP client: lookup, search, query, traverse, get, ask, list_schemas, describe_schema; with --write
    also insert, add_edge and ingest."""
    state = state_of(ctx)
    if write and state.read_only:
        raise CliError("--write and --read-only contradict each other")
    if root is not None and not write:
        raise typer.BadParameter("--root applies with --write only (ingest is a write tool)", param_hint="'--root'")
    if token is not None and not http and ctx.get_parameter_source("token") is ParameterSource.COMMANDLINE:
        raise typer.BadParameter("--token applies with --http only (stdio has no network exposure)",
                                 param_hint="'--token'")
    try:
        from rem_db.mcp.run import serve_mcp
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in ("mcp", "uvicorn", "starlette", "anyio", "pydantic"):
            raise CliError(MISSING_SDK) from None
        raise
    try:
        serve_mcp(state.db_path, state.tenant, state.password, http=http, host=host, port=port, write=write,
                  token=token or None, root=root)
    except KeyboardInterrupt:
        sys.exit(130)


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
