"""`rem ingest FILE|DIR`: a thin call into ``Database.ingest`` with a progress bar (on a terminal) and a
summary table of the files (status, chunks, reason for skipped and failed ones).

Exit code 1 when a file failed (corrupt, encrypted, undecodable, invalid rows) — after every other file was
ingested; skipped files (empty, unsupported type, no text) are listed but do not fail the command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import output
from .errors import CliError, parse_json
from .state import Format, FormatOption, state_of


def ingest(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="FILE|DIR", help="A file, or a directory of files.")],
    schema: Annotated[str | None, typer.Option(
        "--schema", "-s", show_default=False,
        help="Table for the chunks (default resources); records files (JSON, JSONL, CSV) need it: their rows "
             "go there.")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Include subdirectories.")] = False,
    glob: Annotated[str | None, typer.Option(
        "--glob", "-g", show_default=False, help="Only files whose name (or relative path) matches, e.g. '*.pdf'.")
    ] = None,
    category: Annotated[str | None, typer.Option("--category", show_default=False,
                                                 help="Category of the documents and their chunks.")] = None,
    tags: Annotated[str | None, typer.Option("--tags", show_default=False,
                                             help="Comma-separated tags, e.g. a,b.")] = None,
    metadata: Annotated[str | None, typer.Option("--metadata", show_default=False,
                                                 help="A JSON object merged into the metadata.")] = None,
    chunk_tokens: Annotated[int, typer.Option("--chunk-tokens", help="Chunk size bound in model tokens.")] = 256,
    overlap_tokens: Annotated[int, typer.Option("--overlap-tokens", help="Tokens shared by neighbour chunks.")] = 32,
    follow_symlinks: Annotated[bool, typer.Option(
        "--follow-symlinks", help="In a directory, also follow symbolic links that lead outside it.")] = False,
    fmt: FormatOption = None,
) -> None:
    """Ingest documents (text, Markdown, HTML, PDF, DOCX, XLSX) as chunks, or records files into a table."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    meta = parse_json(metadata, "--metadata") if metadata is not None else None
    if meta is not None and not isinstance(meta, dict):
        raise CliError(f"--metadata must be a JSON object, got {type(meta).__name__}")
    tag_list = [t.strip() for t in tags.split(",") if t.strip()] if tags else None
    db = state.open(ctx, write=True)
    with _progress() as progress:
        report = db.ingest(path, schema, recursive=recursive, glob=glob, category=category, tags=tag_list,
                           metadata=meta, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens,
                           progress=progress, follow_symlinks=follow_symlinks)
    base = path.expanduser().resolve()
    if fmt is Format.table:
        _table(report, base)
    elif fmt is Format.json:
        output.print_json(report.to_dict())
    else:
        output.emit([f.to_dict() for f in report.files], fmt)
    totals = report.summary()
    output.message(f"{_n(totals['files'], 'file')}: {totals['added']} added, {totals['updated']} updated, "
                   f"{totals['unchanged']} unchanged, {totals['skipped']} skipped, {totals['failed']} failed; "
                   f"{_n(report.chunks, 'chunk')}" + (f", {_n(report.rows, 'row')}" if report.rows else "")
                   + " written")
    if report.failed:
        sys.stdout.flush()
        raise CliError(f"{_n(len(report.failed), 'file')} could not be ingested (see the table above)")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _table(report: Any, base: Path) -> None:
    table = output.new_table("file", "status", "type", "chunks", "note")
    for f in report.files:
        shown = Path(f.path)
        name = shown.relative_to(base).as_posix() if base.is_dir() and shown.is_relative_to(base) else shown.name
        count = f"{f.rows} rows" if f.rows else str(f.chunks)
        output.add_row(table, (output.cell(name, 60, middle=True), f.status, f.kind or "", count,
                               output.cell(f.reason or "", 90)))
    output.show(table)


class _progress:
    """A rich progress bar on stderr (files, and the embedding of the write in flight) when stderr is a
    terminal; otherwise nothing. Used as ``with _progress() as callback``."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.files = self.bar.add_task("files", total=None, note="")
        self.chunks = self.bar.add_task("chunks", total=None, note="")
        self.bar.start()
        return self.update

    def update(self, state: Any) -> None:
        current = Path(state.current).name if state.current else ""
        self.bar.update(self.files, total=state.files_total or None, completed=state.files_done,
                        note=output.cell(current, 40))
        self.bar.update(self.chunks, total=state.to_embed or None, completed=state.embedded,
                        note=f"{state.chunks_written} written")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
