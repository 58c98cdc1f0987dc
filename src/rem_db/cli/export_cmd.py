"""`rem export` (SPEC §8, §13): one table to a Parquet/CSV/JSONL file, or every table to a directory.

A thin call into :meth:`rem_db.Database.export`. The summary goes to stderr (stdout gets it as JSON with
the global ``--format json``); a progress bar is drawn only when stderr is a terminal.
"""

from __future__ import annotations

import enum
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from . import output
from .query_cmd import ParamOpt, parse_params
from .state import Format, state_of


class ExportFormat(enum.StrEnum):
    """File formats of `rem export`."""

    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _warn_dropped(summary: dict[str, Any]) -> None:
    dropped = summary.get("undeclared_fields") or {}
    if dropped:
        names = ", ".join(f"{k} ({v})" for k, v in dropped.items())
        output.message(f"warning: {summary['table']}: fields not declared in its schema were not exported: {names}")


def export(
    ctx: typer.Context,
    out: Annotated[str, typer.Option("--output", "-o", metavar="PATH", show_default=False,
                                     help="File to write (a directory with --all, or ending in /: "
                                          "PATH/TABLE.EXT).")],
    table: Annotated[str | None, typer.Argument(metavar="TABLE", show_default=False,
                                                help="Table to export (or --all).")] = None,
    fmt: Annotated[ExportFormat | None, typer.Option(
        "--format", "-f", case_sensitive=False, show_default=False,
        help="parquet, csv or jsonl [default: from the file extension; parquet]")] = None,
    where: Annotated[str | None, typer.Option("--where", help="Export only rows matching this SQL condition.")]
    = None,
    params: ParamOpt = None,
    include_deleted: Annotated[bool, typer.Option("--include-deleted", help="Include soft-deleted rows.")] = False,
    with_embeddings: Annotated[bool, typer.Option(
        "--with-embeddings", help="Add the vectors as fixed-size float32 list columns.")] = False,
    all_tables: Annotated[bool, typer.Option(
        "--all", help="Every table with rows to PATH/<table>.<ext>, plus PATH/manifest.json.")] = False,
    parents: Annotated[bool, typer.Option(
        "--parents", help="Create missing parent directories (like mkdir -p).")] = False,
) -> None:
    """Export a table to Parquet (zstd), CSV or JSON Lines with typed columns, or --all tables."""
    if all_tables and table is not None:
        raise typer.BadParameter("give either TABLE or --all, not both", param_hint="'TABLE'")
    if not all_tables and table is None:
        raise typer.BadParameter("name the table to export, or use --all", param_hint="'TABLE'")
    state = state_of(ctx)
    values = parse_params(params)
    db = state.open(ctx, write=False)
    if db.encrypted:
        output.message("warning: the database is encrypted, the export is not: the file holds its data as "
                       "plaintext")
    with _progress() as progress:
        summary = db.export(table, output=out, format=fmt.value if fmt else None, where=where, params=values,
                            include_deleted=include_deleted, with_embeddings=with_embeddings,
                            all_tables=all_tables, progress=progress, parents=parents)
    if state.format is not Format.table:
        output.emit(summary, Format.json if state.format is Format.csv else state.format)
    parts = summary["tables"] if all_tables else [summary]
    for part in parts:
        where_to = Path(summary["path"]) / part["file"] if all_tables else part["path"]
        output.message(f"exported {_rows(part['rows'])} of {part['table']} to {where_to} "
                       f"({_size(part['bytes'])})")
        _warn_dropped(part)
    if all_tables:
        skipped = summary["empty_tables"]
        note = f"; skipped {len(skipped)} empty: {', '.join(skipped)}" if skipped else ""
        output.message(f"{len(parts)} table{'s' if len(parts) != 1 else ''} ({summary['format']}), "
                       f"manifest {summary['manifest']}{note}")


def _progress() -> AbstractContextManager[Any]:
    if not sys.stderr.isatty():
        return nullcontext(None)
    return _Bar()


class _Bar:
    """A rich progress bar on stderr: rows written per table (a bar when the row count is known)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[rows]} rows"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Any:
        self.progress.start()
        return self.update

    def update(self, table: str, done: int, total: int | None) -> None:
        task = self.tasks.get(table)
        if task is None:
            task = self.tasks[table] = self.progress.add_task(f"exporting {table}", total=total, rows=0)
        self.progress.update(task, completed=done, total=total, rows=done)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def register(app: typer.Typer) -> None:
    app.command()(export)
