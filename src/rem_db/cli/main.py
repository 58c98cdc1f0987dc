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

from . import data_cmd, export_cmd, graph_cmd, ingest_cmd, query_cmd, schema_cmd, search_cmd
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
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """REM Database: an embedded memory database for AI applications."""
    from rem_db.config import Settings, configure_logging

    settings = Settings.from_env()
    configure_logging(settings)
    if db_path is None:
        db_path = settings.resolved_db_path
    ctx.obj = State(db_path=db_path.expanduser(), tenant=tenant or None, read_only=read_only, format=fmt)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database directory and register the built-in tables; prints the path."""
    state = state_of(ctx)
    if state.read_only:
        raise CliError("`rem init` creates the database; run it without --read-only")
    db = state.open(ctx, write=True)
    tables = db.list_schemas()
    print(db.path.resolve())
    sys.stdout.flush()
    message(f"initialized REM database (tenant {db.tenant_id!r}, {len(tables)} tables)")


app.add_typer(schema_cmd.app, name="schema")
data_cmd.register(app)
graph_cmd.register(app)
search_cmd.register(app)
query_cmd.register(app)
export_cmd.register(app)
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
