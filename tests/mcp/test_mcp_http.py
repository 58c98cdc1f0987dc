"""`rem mcp --http`: streamable HTTP with a bearer token (one real server for the module, the SDK's client), and
the refusals: no token or a wrong one gets 401, a non-loopback address without a token does not start."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp_helpers import READ_TOOLS, REM, HttpServer, make_database, server_env

from rem_db import Database

TOKEN = "s3cret-token"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "probe", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mcp_http")
    make_database(tmp / "db")
    return tmp


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[HttpServer]:
    started = HttpServer(tmp / "db", tmp, "--token", TOKEN)
    try:
        yield started
    finally:
        started.stop()


def test_client_with_the_token_uses_every_tool(server: HttpServer, tmp: Path) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    client = server.client(TOKEN)
    try:
        assert set(client.tools()) == READ_TOOLS
        found = client.ok("lookup", key="doc://rail")
        with Database(tmp / "db", read_only=True) as db:
            assert [r["id"] for r in found["results"]] == [e["id"] for e in db.lookup("doc://rail")]
            sql = "SELECT product_code FROM products WHERE price > ? ORDER BY price LIMIT 2"
            assert client.ok("query", sql=sql, params=[117])["results"] == db.query(sql, [117])
        assert "unknown table 'nope'" in client.error("describe_schema", name="nope")
    finally:
        client.close()


@pytest.mark.parametrize("auth", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_requests_without_the_token_are_refused(server: HttpServer, auth: str | None) -> None:
    headers = HEADERS | ({"Authorization": auth} if auth else {})
    response = httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    good = httpx.post(server.url, json=INITIALIZE, headers=HEADERS | {"Authorization": f"Bearer {TOKEN}"},
                      timeout=10)
    assert good.status_code == 200  # the server kept serving


def test_sdk_client_with_a_wrong_token_fails(server: HttpServer) -> None:
    with pytest.raises(Exception) as raised:
        server.client("wrong").close()
    assert "401 Unauthorized" in repr(raised.value)  # an ExceptionGroup around httpx.HTTPStatusError


def test_non_loopback_without_token_does_not_start(tmp: Path) -> None:
    result = subprocess.run([REM, "--db-path", str(tmp / "db"), "mcp", "--http", "--host", "0.0.0.0"],
                            capture_output=True, text=True, env=server_env(tmp), timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: rem mcp --http listens on 0.0.0.0, which is not a loopback address: give --token" \
        in result.stderr


def test_taken_port_is_a_clear_error(server: HttpServer, tmp: Path) -> None:
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    result = subprocess.run([REM, "--db-path", str(tmp / "db"), "mcp", "--http", "--port", port],
                            capture_output=True, text=True, env=server_env(tmp), timeout=60)
    assert result.returncode == 1 and f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
