"""``serve_mcp``: open the database once, build the app, serve it over stdio or streamable HTTP until the client
goes away (stdio: stdin closes) or the process is interrupted; then close the database."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from rem_db.errors import ConfigError

from .handle import DatabaseHandle
from .results import Limits
from .server import build_server, run_stdio
from .tools import ServerConfig


def _say(text: str) -> None:
    sys.stderr.write(f"rem mcp: {text}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (what MCP clients send a server that does not exit) ends the process through ``finally``
    blocks, so the database is closed cleanly."""
    def stop(*_: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_mcp(path: Path, tenant: str | None = None, password: str | None = None, *, http: bool = False,
              host: str = "127.0.0.1", port: int = 8765, write: bool = False, token: str | None = None,
              root: Path | None = None, limits: Limits | None = None) -> None:
    """Serve the database at ``path`` to MCP clients (SPEC §17; docs/mcp.md).

    Read-only unless ``write``; ``root``: the folder the ``ingest`` tool may read (with ``write`` only). Over
    HTTP (``http``) it listens on ``host:port`` at ``/mcp``: a loopback address unless a ``token`` is given, and
    with a token every request must carry ``Authorization: Bearer <token>``. Bad options are a
    :class:`~rem_db.ConfigError`."""
    from . import http as web

    if root is not None:
        root = root.expanduser()
        if not root.is_dir():
            raise ConfigError(f"--root {root} is not a folder")
    sock = None
    if http:
        web.check_exposure(host, token)
        sock = web.listen(host, port)  # before the database opens: a taken port fails fast
    handle = DatabaseHandle(path, tenant, write=write, password=password)
    try:
        config = ServerConfig(write=write, root=root if write else None, limits=limits or Limits(), host=host,
                              port=port)
        app = build_server(handle, config)
        mode = "read-write" if write else "read-only"
        where = f"{handle.database.path} (tenant {handle.database.tenant_id}, {mode})"
        if write and root is None:
            _say("the ingest tool is off: give --root DIR to let clients ingest the files under DIR")
        with _stop_on_sigterm():
            if sock is None:
                import anyio

                _say(f"serving {where} over stdio")
                anyio.run(run_stdio, app)
            else:
                bound = sock.getsockname()
                shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
                asgi = app.streamable_http_app()
                _say(f"serving {where} at http://{shown}:{bound[1]}{web.PATH}"
                     + (" (bearer token required)" if token else ""))
                web.serve(web.BearerAuth(asgi, token) if token else asgi, sock)
    finally:
        if sock is not None:
            sock.close()
        handle.close()
