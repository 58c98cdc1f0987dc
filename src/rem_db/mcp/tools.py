"""What every tool shares: the server's configuration, the call wrapper (worker thread, errors, JSON result)
and the registration decorator."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from .handle import DatabaseHandle
from .results import Limits, dumps

if TYPE_CHECKING:
    from rem_db import Database

log = logging.getLogger("rem_db.mcp")

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)


@dataclass
class ServerConfig:
    """What the server may do: ``write`` (the write tools), ``root`` (the folder ``ingest`` may read),
    result ``limits``."""

    write: bool = False
    root: Path | None = None
    limits: Limits = field(default_factory=Limits)
    host: str = "127.0.0.1"
    port: int = 8765


class ToolFailure(Exception):
    """A refusal of the server itself (e.g. a path outside ``--root``), returned as a tool error."""


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], isError=True)


def ok_result(value: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=dumps(value).decode("utf-8"))],
                          structuredContent=value)


def error_message(exc: BaseException) -> str:
    """What `rem` prints for this error (without its ``error:`` prefix)."""
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return "\n".join([str(exc), *getattr(exc, "__notes__", ())])


class Tools:
    """Runs tool bodies against the handle's database on a worker thread and wraps their results."""

    def __init__(self, handle: DatabaseHandle, config: ServerConfig) -> None:
        self.handle = handle
        self.config = config

    async def call(self, body: Callable[[Database], dict[str, Any]]) -> CallToolResult:
        """``body(db)`` on a worker thread: its JSON object as the result, or a tool error for a
        :class:`~rem_db.DatabaseError`, a refused path or an unreadable file."""
        from rem_db import DatabaseError

        def run() -> dict[str, Any]:
            with self.handle.use() as db:
                return body(db)

        try:
            value = await anyio.to_thread.run_sync(run)
        except (DatabaseError, ToolFailure, OSError) as exc:
            log.info("tool error: %s", exc)
            return error_result(error_message(exc))
        return ok_result(value)


def tool(app: FastMCP, annotations: ToolAnnotations, title: str) -> Callable[[Callable[..., Any]], Any]:
    """``@tool(app, READ, "Title")``: register an async function as a tool, its docstring the description."""
    return functools.partial(_register, app, annotations, title)


def _register(app: FastMCP, annotations: ToolAnnotations, title: str, fn: Callable[..., Any]) -> Any:
    app.add_tool(fn, title=title, annotations=annotations, structured_output=False)
    added = app._tool_manager.get_tool(fn.__name__)
    if added is not None:  # advertise what RemMCP.call_tool enforces: no arguments beyond the listed ones
        added.parameters["additionalProperties"] = False
    return fn
