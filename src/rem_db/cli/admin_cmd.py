"""`rem backup DEST`, `rem restore SRC` and `rem stats [TABLE]` (SPEC §13): thin calls into
:meth:`rem_db.Database.backup`, :meth:`rem_db.Database.restore` and :meth:`rem_db.Database.stats`.

Backup and restore print their summary on stderr (on stdout as JSON with ``--format json``/``jsonl``); a
spinner naming the current step is drawn only when stderr is a terminal. ``rem backup`` opens the database
read-write when no other process holds it (a RocksDB checkpoint: hard links, fast) and read-only otherwise
(a copy of what the read-only open sees), so it works beside a running server.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output
from .state import Format, FormatOption, State, state_of

if TYPE_CHECKING:
    from rem_db import Database


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _open_source(ctx: typer.Context, state: State) -> Database:
    """Read-only first (a missing database or a wrong password fails there, nothing is created); then
    read-write for a checkpoint unless --read-only was given or another process holds the directory."""
    from rem_db import LockedError

    db = state.open(ctx, write=False)
    if state.read_only:
        return db
    db.close()
    try:
        return state.open(ctx, write=True)
    except LockedError as exc:
        output.message(f"note: {exc}; backing up what a read-only open sees")
        return state.open(ctx, write=False)


def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(metavar="DEST", show_default=False,
                                         help="New directory to write the backup to (must not exist).")],
    fmt: FormatOption = None,
) -> None:
    """Write an online, consistent copy of the database (store + vector index files at one commit) to DEST
    while writes go on. An encrypted database's backup stays encrypted."""
    state = state_of(ctx)
    db = _open_source(ctx, state)
    with _steps(f"backing up to {dest}") as progress:
        summary = db.backup(dest, progress=progress)
    _summary(state.fmt(fmt), summary)
    kind = ", encrypted" if summary["encrypted"] else ""
    output.message(f"backed up {db.path} to {summary['path']}: commit {summary['sequence']}, "
                   f"{_size(summary['bytes'])}{kind}, {summary['seconds']:.2f} s")


def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(metavar="SRC", show_default=False,
                                        help="A backup directory made by `rem backup`.")],
    fmt: FormatOption = None,
) -> None:
    """Make --db-path (a new or empty directory) a database from the backup SRC; a non-empty target is
    refused before anything is written."""
    from rem_db import Database

    state = state_of(ctx)
    summary = Database.restore(src, state.db_path)
    _summary(state.fmt(fmt), summary)
    output.message(f"restored {summary['source']} (commit {summary['sequence']}, {_size(summary['bytes'])}) "
                   f"to {summary['path']}")


def stats(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Argument(metavar="TABLE", show_default=False,
                                                help="Only this table's rows and indexes.")] = None,
    fmt: FormatOption = None,
) -> None:
    """Rows per table, disk per area, vector index sizes, WAL range and size, embedding providers,
    encryption and replication role."""
    state = state_of(ctx)
    db = state.open(ctx, write=False)
    figures = db.stats(table)
    chosen = state.fmt(fmt)
    if chosen is Format.table:
        _stats_tables(figures)
    else:
        output.emit(figures, Format.json if chosen is Format.csv else chosen)


# -- output ----------------------------------------------------------------------------------------------
def _summary(fmt: Format, summary: dict[str, Any]) -> None:
    if fmt is not Format.table:
        output.emit(summary, Format.json if fmt is Format.csv else fmt)


def _stats_tables(figures: dict[str, Any]) -> None:
    wal, replication = figures["wal"], figures["replication"]
    overview = {
        "path": figures["path"], "tenant": figures["tenant"], "encrypted": "yes" if figures["encrypted"] else "no",
        "replication role": replication["role"] + (f" (follows {replication['follows']})"
                                                   if replication.get("follows") else ""),
        "WAL sequence": wal["sequence"],
        "WAL retained": f"{wal['records']} records from {wal['first_retained_seq']}, {_size(wal['bytes'])}"
                        + ("" if wal["enabled"] else " (WAL off)"),
        "WAL retention": f"{wal['retention_hours']:g} h, {wal['max_size_mb']:g} MB",
        "default embedding": figures["embedding"]["default_provider"],
    }
    output.detail_table(overview, title="database")
    table = output.new_table("table", "rows", "embedding", "dims", "vectors", "index", "elements", "index files",
                             title="tables")
    for name, detail in figures["details"].items():
        embedding, index = detail["embedding"] or {}, detail["vector_index"] or {}
        output.add_row(table, (name, str(detail["rows"]), embedding.get("provider", ""),
                               str(embedding.get("dimensions", "")), str(embedding.get("vectors", "")),
                               index.get("kind", ""), "" if index.get("elements") is None else str(index["elements"]),
                               _size(index["file_bytes"]) if index else ""))
    output.show(table)
    disk = output.new_table("area", "bytes", "size", title="disk (whole database, approximate)")
    for area, size in figures["disk"].items():
        output.add_row(disk, (area, str(size), _size(size)))
    output.show(disk)


def _steps(start: str) -> AbstractContextManager[Any]:
    if not sys.stderr.isatty():
        return nullcontext(None)
    return _Spinner(start)


class _Spinner:
    """A spinner on stderr naming the step under way (removed when done)."""

    def __init__(self, start: str) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.start = start
        self.task = self.progress.add_task(start, total=None)

    def __enter__(self) -> Any:
        self.progress.start()
        return self.update

    def update(self, step: str) -> None:
        self.progress.update(self.task, description=f"{self.start}: {step}")

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command()(stats)
