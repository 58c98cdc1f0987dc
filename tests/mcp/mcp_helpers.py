"""Helpers of the MCP tests (imported as ``mcp_helpers``): real `rem mcp` servers in subprocesses, and the MCP
SDK's own ``ClientSession`` driven from synchronous tests.

``McpClient`` runs one client session on an event loop in a background thread, so a module-scoped fixture can
keep one server and one session for all its tests; ``call`` and ``tools`` block until the answer arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from mcp.types import CallToolResult, Tool

from mcp import ClientSession, StdioServerParameters
from rem_db import Database

REM = str(Path(sys.executable).parent / "rem")
READ_TOOLS = {"lookup", "search", "query", "traverse", "get", "ask", "list_schemas", "describe_schema"}
WRITE_TOOLS = {"insert", "add_edge", "ingest"}

PRODUCTS: dict[str, Any] = {
    "title": "products",
    "type": "object",
    "description": "Products for sale, keyed by product code.",
    "properties": {"product_code": {"type": "string"}, "name": {"type": "string"}, "price": {"type": "number"},
                   "tags": {"type": "array", "items": {"type": "string"}, "default": []}},
    "required": ["product_code", "name", "price"],
    "key_field": "product_code",
    "indexed_fields": ["price"],
}
NOTES: dict[str, Any] = {
    "title": "notes", "type": "object", "description": "Free-form notes.",
    "properties": {"name": {"type": "string"}, "text": {"type": "string"}},
}
DOCS = [
    {"uri": "doc://bees", "name": "Bees", "content": "Bees make honey from the nectar of flowers."},
    {"uri": "doc://rail", "name": "Rail", "content": "High-speed trains run on dedicated rail lines between cities."},
    {"uri": "doc://bread", "name": "Bread", "content": "Sourdough bread rises slowly thanks to wild yeast."},
]
PRODUCT_ROWS = 120  # more than a result may hold (100)


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a server subprocess: no inherited ``P8_*`` settings, ``P8_HOME`` under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("P8_")}
    env.update({"P8_HOME": str(tmp / "home"), "NO_COLOR": "1", **extra})
    return env


def make_database(path: Path) -> None:
    """products (120 rows, no embeddings), notes, and three embedded resources linked bees -> rail -> bread."""
    with Database(path) as db:
        db.register_schema(copy.deepcopy(PRODUCTS))
        db.register_schema(copy.deepcopy(NOTES))
        db.insert_batch("products", [{"product_code": f"PP-{i:04d}", "name": f"Plant pot {i}", "price": float(i),
                                      "tags": ["garden"] if i % 2 else []} for i in range(PRODUCT_ROWS)])
        db.insert_batch("resources", copy.deepcopy(DOCS))
        db.add_edge("doc://bees", "doc://rail", "related_to", {"weight": 0.5})
        db.add_edge("doc://rail", "doc://bread", "related_to")


class McpClient:
    """One MCP ``ClientSession`` over ``transport()`` (an async context manager yielding the SDK's streams),
    on its own event loop thread."""

    def __init__(self, transport: Callable[[], Any]) -> None:
        self._transport = transport
        self._loop = asyncio.new_event_loop()
        self._ready: Future[ClientSession] = Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)
        self._thread.start()
        try:
            self.session = self._ready.result(timeout=60)
        except BaseException:
            self._thread.join(timeout=30)
            self._loop.close()
            raise

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with self._transport() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self._ready.set_result(session)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    def tools(self) -> dict[str, Tool]:
        return {t.name: t for t in self._run(self.session.list_tools()).tools}

    def call(self, tool: str, /, **arguments: Any) -> CallToolResult:
        return self._run(self.session.call_tool(tool, arguments))

    def ok(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        """The structured result of a call that must succeed (its text content is the same JSON)."""
        result = self.call(tool, **arguments)
        assert not result.isError, result.content
        assert result.structuredContent is not None
        assert json.loads(result.content[0].text) == result.structuredContent  # type: ignore[union-attr]
        return result.structuredContent

    def error(self, tool: str, /, **arguments: Any) -> str:
        """The message of a call that must fail as a tool error."""
        result = self.call(tool, **arguments)
        assert result.isError, result.structuredContent
        return result.content[0].text  # type: ignore[union-attr]

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self._loop.close()


def stdio_client_for(db_path: Path, tmp: Path, *args: str, errlog: Path) -> McpClient:
    """A session with `rem --db-path DB mcp ARGS...` over stdio; the server's stderr goes to ``errlog``."""
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=REM, args=["--db-path", str(db_path), "mcp", *args],
                                   env=server_env(tmp), cwd=str(tmp))
    log = errlog.open("w")

    @contextlib.asynccontextmanager
    async def transport() -> Any:
        try:
            async with stdio_client(params, errlog=log) as streams:
                yield streams
        finally:
            log.close()

    return McpClient(transport)


class HttpServer:
    """`rem --db-path DB mcp --http --port 0 ARGS...` in a subprocess; ``url`` is read from its stderr."""

    def __init__(self, db_path: Path, tmp: Path, *args: str) -> None:
        self.proc = subprocess.Popen([REM, "--db-path", str(db_path), "mcp", "--http", "--port", "0", *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=server_env(tmp), cwd=tmp, text=True)
        assert self.proc.stderr is not None
        seen = []
        for line in self.proc.stderr:
            seen.append(line)
            found = re.search(r"at (http://\S+/mcp)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise AssertionError(f"the server did not start: {''.join(seen)}")

    def client(self, token: str | None) -> McpClient:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        headers = {"Authorization": f"Bearer {token}"} if token else None

        @contextlib.asynccontextmanager
        async def transport() -> Any:
            async with create_mcp_http_client(headers=headers) as http, \
                    streamable_http_client(self.url, http_client=http) as streams:
                yield streams

        return McpClient(transport)

    def stop(self) -> str:
        """Stop the server (SIGTERM, as a supervisor would) and return the rest of its stderr."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err
