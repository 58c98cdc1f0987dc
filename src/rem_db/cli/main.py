"""The `rem` command line (SPEC §13): a thin mirror of the Python API.

``run()`` is the console-script entry point: it runs the typer app and turns every
:class:`rem_db.DatabaseError` (and every CLI-level user error such as malformed JSON) into
``error: <message>`` on stderr with exit code 1, without a traceback. Usage errors exit with 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rem_db.config import Settings

from . import (
    ask_cmd,
    data_cmd,
    dream_cmd,
    export_cmd,
    graph_cmd,
    ingest_cmd,
    mcp_cmd,
    query_cmd,
    replication_cmd,
    schema_cmd,
    search_cmd,
)
from .admin_cmd import register as register_admin  # backup, restore, stats
from .errors import CliError, report
from .output import message
from .state import Format, State, state_of

app = typer.Typer(
    name="rem",
    help="REM Database: an embedded memory database for AI applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from rem_db import __version__

        print(f"rem {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db_path: Annotated[Path | None, typer.Option(
        "--db-path", envvar="P8_DB_PATH", show_default=False,
        help="Database directory \\[default: $P8_HOME/db, P8_HOME defaulting to ~/.p8].")] = None,
    tenant: Annotated[str | None, typer.Option(
        "--tenant", envvar="P8_TENANT_ID", show_default=False, help="Tenant id \\[default: default].")] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="Open the database read-only and refuse writes (read commands always open it "
                            "read-only, so they work while another process holds it).")] = False,
    fmt: Annotated[Format, typer.Option(
        "--format", "-f", case_sensitive=False, help="Output format of commands that print data.")] = Format.table,
    password: Annotated[str | None, typer.Option(
        "--password", envvar="P8_PASSWORD", show_default=False,
        help="Password of an encrypted database (made with `rem init --password`).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """REM Database: an embedded memory database for AI applications."""
    from rem_db.config import configure_logging

    settings = Settings.from_env()
    configure_logging(settings)
    if db_path is None:
        db_path = settings.resolved_db_path
    ctx.obj = State(db_path=db_path.expanduser(), tenant=tenant or None, read_only=read_only, format=fmt,
                    password=password or None)


PasswordOption = Annotated[str | None, typer.Option(
    "--password", show_default=False, help="Password of the key pair (default: the global --password / "
                                           "P8_PASSWORD).")]


@app.command()
def init(ctx: typer.Context, password: PasswordOption = None) -> None:
    """Create the database directory and register the built-in tables; prints the path. With --password the
    database is encrypted at rest (a key pair is made under $P8_HOME/keys if there is none)."""
    state = state_of(ctx)
    if state.read_only:
        raise CliError("`rem init` creates the database; run it without --read-only")
    if password is not None:
        state.password = password
    db = state.open(ctx, write=True)
    tables = db.list_schemas()
    print(db.path.resolve())
    sys.stdout.flush()
    kind = "encrypted " if db.encrypted else ""
    message(f"initialized {kind}REM database (tenant {db.tenant_id!r}, {len(tables)} tables)")


def _password(ctx: typer.Context, given: str | None, command: str) -> str:
    password = given if given is not None else state_of(ctx).password
    if not password:
        raise CliError(f"`rem {command}` needs --password (or P8_PASSWORD)")
    return password


@app.command("key-gen")
def key_gen(ctx: typer.Context, password: PasswordOption = None) -> None:
    """Make the Ed25519 key pair of encrypted databases under $P8_HOME/keys, its private key wrapped with the
    password (Argon2id + ChaCha20-Poly1305). Never replaces an existing key pair."""
    from rem_db import generate_key_pair

    fingerprint = generate_key_pair(_password(ctx, password, "key-gen"))
    message(f"made key pair {fingerprint} in {Settings.from_env().home / 'keys'}")


@app.command()
def rekey(ctx: typer.Context, password: PasswordOption = None,
          new_password: Annotated[str, typer.Option("--new-password", show_default=False,
                                                    help="The password from now on.")] = "") -> None:
    """Change the password of the key pair under $P8_HOME/keys: re-wraps the private key, rewrites no data;
    every database made with it opens with the new password, none with the old."""
    from rem_db import rekey as rekey_keys

    if not new_password:
        raise CliError("`rem rekey` needs --new-password")
    fingerprint = rekey_keys(_password(ctx, password, "rekey"), new_password)
    message(f"key pair {fingerprint} now opens with the new password")


app.add_typer(schema_cmd.app, name="schema")
data_cmd.register(app)
graph_cmd.register(app)
search_cmd.register(app)
ask_cmd.register(app)
dream_cmd.register(app)
query_cmd.register(app)
export_cmd.register(app)
register_admin(app)
replication_cmd.register(app)
mcp_cmd.register(app)
app.command("ingest")(ingest_cmd.ingest)


def run() -> None:
    """Console-script entry: run the app, mapping user errors to ``error: ...`` and exit code 1."""
    from rem_db import DatabaseError

    try:
        app()
    except (DatabaseError, CliError) as exc:
        report("\n".join([str(exc), *getattr(exc, "__notes__", ())]))  # notes: e.g. what a failed load kept
        sys.exit(1)
    except OSError as exc:  # a file the user named cannot be read or written, a full disk, ...
        report(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        sys.exit(1)


if __name__ == "__main__":
    run()
