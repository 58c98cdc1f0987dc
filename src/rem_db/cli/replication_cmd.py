"""`rem serve`, `rem replicate` and `rem replication status|wal-status|promote` (SPEC §9, §13).

Thin calls into :func:`rem_db.database.serve_directory`, :meth:`Database.open_replica` /
:meth:`Database.replicate`, :meth:`Database.replication_status`, :meth:`Database.wal_status` and
:meth:`Database.promote`. Long-running commands stop cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from rem_db.config import Settings

from . import output
from .errors import CliError
from .state import FormatOption, state_of

replication_app = typer.Typer(help="Replication status, WAL status and promotion of a replica.",
                              no_args_is_help=True)

TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar="P8_REPLICATION_TOKEN", show_default=False,
    help="Shared replication token (required off loopback) [env P8_REPLICATION_TOKEN].")]


def _until_signalled(stop: threading.Event) -> None:
    """Wait until Ctrl-C or SIGTERM (or ``stop`` is set by the work itself)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _then(wait: Any, stopped: threading.Event) -> None:
    wait()
    stopped.set()


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (anything but loopback needs "
                                                     "--token and TLS).")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option("--port", show_default=False,
                                             help="Port [default: P8_REPLICATION_PORT, 50051; 0: any free].")]
    = None,
    token: TokenOption = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", show_default=False,
                                                  help="TLS certificate (PEM) of the server.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", show_default=False,
                                                 help="TLS private key (PEM) of the server.")] = None,
    poll_interval: Annotated[float, typer.Option("--poll-interval", min=0.0005, max=10.0,
                                                 help="Seconds between looks at the writer's new commits.")]
    = 0.002,
) -> None:
    """Stream this database's WAL to replicas over gRPC. Works while another process writes the database (a
    RocksDB secondary instance follows it); runs until Ctrl-C / SIGTERM."""
    from rem_db.database import serve_directory

    state = state_of(ctx)
    server = serve_directory(state.db_path, host, port, token=token, tls_cert=tls_cert, tls_key=tls_key,
                             poll_interval=poll_interval)
    try:
        output.message(f"serving {state.db_path} for replication on {server.address}"
                       f"{' (TLS)' if tls_cert else ''}; Ctrl-C to stop")
        stopped = threading.Event()
        threading.Thread(target=_then, args=(server.wait, stopped), daemon=True).start()
        _until_signalled(stopped)
    finally:
        server.stop()
    output.message("replication server stopped")


def _primary(given: str | None) -> str:
    if given:
        return given
    settings = Settings.from_env()
    if not settings.primary_host:
        raise CliError("`rem replicate` needs --primary HOST:PORT (or P8_PRIMARY_HOST)")
    host = settings.primary_host
    return host if host.rpartition(":")[2].isdigit() else f"{host}:{settings.replication_port}"


def replicate(
    ctx: typer.Context,
    primary: Annotated[str | None, typer.Option("--primary", show_default=False,
                                                help="HOST:PORT of the primary [default: P8_PRIMARY_HOST].")]
    = None,
    follow: Annotated[bool, typer.Option("--follow", help="Keep applying new commits until Ctrl-C / SIGTERM "
                                                          "(reconnecting with backoff).")] = False,
    token: TokenOption = None,
    tls_ca: Annotated[Path | None, typer.Option("--tls-ca", show_default=False,
                                                help="CA certificate (PEM) to check the primary's TLS "
                                                     "certificate with.")] = None,
    fmt: FormatOption = None,
) -> None:
    """Pull the primary's WAL into this directory (a new one, a restored backup, or a replica). Without
    --follow, catch up to the primary's current sequence and exit 0."""
    from rem_db import Database

    state = state_of(ctx)
    if state.read_only:
        raise CliError("`rem replicate` writes the replica; run it without --read-only")
    db = Database.open_replica(state.db_path, _primary(primary), password=state.password, tenant_id=state.tenant)
    ctx.call_on_close(db.close)
    if not follow:
        result = db.replicate(token=token, tls_ca=tls_ca)
        output.emit(_shown(result), state.fmt(fmt))
        return

    def announce(status: Any) -> None:
        detail = f" ({status.error})" if status.error and status.state in ("disconnected", "error") else ""
        output.message(f"replica {status.state} at sequence {status.position}{detail}")

    handle = db.replicate(follow=True, token=token, tls_ca=tls_ca, on_state=announce)
    stopped = threading.Event()
    threading.Thread(target=_then, args=(handle.join, stopped), daemon=True).start()  # ends on an error
    _until_signalled(stopped)
    handle.stop()
    if handle.error is not None:
        raise handle.error
    output.message(f"replica stopped at sequence {handle.status.position}")


def _shown(status: dict[str, Any]) -> dict[str, Any]:
    keys = ("state", "primary", "position", "primary_seq", "lag_entries", "applied", "reconnects")
    return {k: status.get(k) for k in keys}


@replication_app.command("status")
def status(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Mode, primary, position, lag (entries and ms), state and last sync of this directory."""
    state = state_of(ctx)
    db = state.open(ctx, write=False)
    output.emit(db.replication_status(), state.fmt(fmt))


@replication_app.command("wal-status")
def wal_status(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """WAL sequence, records retained, their size and the replicas connected to a server on this directory."""
    state = state_of(ctx)
    db = state.open(ctx, write=False)
    output.emit(db.wal_status(), state.fmt(fmt))


@replication_app.command("promote")
def promote(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Make this replica a writable primary at its current position (stop `rem replicate` on it first)."""
    state = state_of(ctx)
    db = state.open(ctx, write=True)
    result = db.promote()
    output.emit(result, state.fmt(fmt))
    output.message(f"promoted {result['path']} to a primary at sequence {result['sequence']}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(replicate)
    app.add_typer(replication_app, name="replication")
