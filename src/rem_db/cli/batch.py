"""`rem insert|upsert TABLE --batch`: JSON Lines on stdin, one atomic ``insert_batch`` per chunk of lines.

Errors name the input line (1-based, blank lines counted), say that nothing from the failing chunk was
written and how many rows were written before it. A progress bar is drawn only when stderr is a terminal.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, BinaryIO

from .errors import CliError, check_text

Writer = Callable[[list[Any], Any], list[dict[str, Any]]]  # (rows, embedding progress callback)


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(line number, bytes consumed, parsed object)`` for every non-blank line."""
    import orjson

    for number, raw in enumerate(stream, start=1):
        text = check_text(raw, f"stdin line {number}")
        if number == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue
        try:
            row = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise CliError(f"invalid JSON on stdin line {number}, column {exc.colno}: {exc.msg}") from None
        yield number, len(raw), row


def _locate(exc: Exception, lines: list[int]) -> str:
    """Name the input line a failing batch row came from (the library gives its 0-based position)."""
    position = getattr(exc, "position", None)
    if position is None or position >= len(lines):
        return str(exc)
    return f"line {lines[position]}: {exc.table}: {exc.detail}"


class BatchLoader:
    """Feeds chunks of parsed lines to ``write`` (the library's atomic batch insert or upsert)."""

    def __init__(self, table: str, write: Writer, chunk_size: int, verb: str) -> None:
        self.table = table
        self.write = write
        self.chunk_size = chunk_size
        self.verb = verb
        self.written = 0
        self.results: list[dict[str, Any]] = []
        self.on_embed: Callable[[int, int], None] | None = None  # set while a progress bar is shown

    def run(self, stream: BinaryIO, keep: bool = False) -> int:
        """Load everything from ``stream``; returns the number of rows written (``keep``: keep results)."""
        chunk: list[Any] = []
        lines: list[int] = []
        first_line = 1
        seen_input = False
        consumed = 0
        rows = read_lines(stream)
        with self._progress(stream) as advance:
            while True:
                try:
                    number, size, row = next(rows)
                except StopIteration:
                    break
                except CliError as exc:  # bad bytes or JSON: the chunk being read is dropped
                    raise CliError(f"{exc}\n{self._nothing_written(first_line)}") from None
                seen_input = True
                chunk.append(row)
                lines.append(number)
                consumed += size
                if len(chunk) >= self.chunk_size:
                    self._flush(chunk, lines, first_line, keep)
                    advance(consumed, len(chunk))
                    chunk, lines, consumed = [], [], 0
                    first_line = number + 1
            if chunk:
                self._flush(chunk, lines, first_line, keep)
                advance(consumed, len(chunk))
        if not seen_input:
            raise CliError("stdin is empty: --batch expects JSON Lines (one JSON object per line)")
        return self.written

    def _flush(self, chunk: list[Any], lines: list[int], first_line: int, keep: bool) -> None:
        from rem_db import DatabaseError

        try:
            results = self.write(chunk, self.on_embed)
        except DatabaseError as exc:
            raise CliError(f"{_locate(exc, lines)}\n{self._nothing_written(first_line)}") from None
        self.written += len(results)
        if keep:
            self.results.extend(results)

    def _nothing_written(self, first_line: int) -> str:
        rows = "row was" if self.written == 1 else "rows were"
        return (f"nothing from the chunk starting at line {first_line} was written; "
                f"{self.written} {rows} {self.verb} into {self.table} before it")

    def _progress(self, stream: BinaryIO) -> AbstractContextManager[Callable[[int, int], None]]:
        if not sys.stderr.isatty():
            return nullcontext(lambda size, rows: None)
        bar = _ProgressBar(self.table, _input_size(stream))
        self.on_embed = bar.embedded
        return bar


def _input_size(stream: BinaryIO) -> int | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


class _ProgressBar:
    """A rich progress bar on stderr: bytes read when the input size is known, rows written always."""

    def __init__(self, table: str, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[rows]} rows"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(f"loading {table}", total=total, rows=0)
        self.embed_task: Any = None
        self.rows = 0

    def __enter__(self) -> Callable[[int, int], None]:
        self.progress.start()
        return self.advance

    def advance(self, size: int, rows: int) -> None:
        self.rows += rows
        self.progress.update(self.task, advance=size, rows=self.rows)

    def embedded(self, done: int, total: int) -> None:
        """Embedding progress of the chunk being written (tables with embedding fields)."""
        if self.embed_task is None:
            self.embed_task = self.progress.add_task("embedding", total=total, rows=0)
        self.progress.update(self.embed_task, completed=done, total=total, rows=done)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
