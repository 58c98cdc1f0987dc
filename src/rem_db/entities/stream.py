"""Rows of one table read from JSON Lines and written in atomic chunks (``Database.insert_jsonl``).

Every non-blank line is one JSON value (an entity object); blank lines are skipped but counted, so line
numbers match what an editor shows. Lines are parsed and written ``chunk_size`` at a time, each chunk in one
atomic batch: a bad line fails its whole chunk, and the chunks before it stay written. Errors name the line
(1-based) and say how many rows were written before the failing chunk.

This module knows nothing of the database: it is handed a ``write(rows, embed_progress)`` function (the
entity engine's atomic batch write) and only reads, counts and reports.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ..errors import DatabaseError, ValidationError
from .values import loads_exact

#: ``embed_progress(done, total)``: the embedding of the chunk being written.
EmbedProgress = Callable[[int, int], None]
#: ``write(rows, embed_progress)``: one atomic batch of one table; returns the entities written.
Writer = Callable[[list[Any], EmbedProgress | None], list[dict[str, Any]]]
#: What ``insert_jsonl`` reads: a file path, a binary or text file object, or lines (``str`` or ``bytes``).
JsonlSource = str | os.PathLike[str] | IO[bytes] | IO[str] | Iterable[str] | Iterable[bytes]

DEFAULT_CHUNK_SIZE = 1000


@dataclass
class JsonlProgress:
    """Passed to the ``progress`` callback after each chunk and while a chunk is embedded.

    ``bytes_total`` is the input size when it is a regular file (else ``None``); ``embedded`` of
    ``to_embed`` is the embedding of the chunk being written (tables with embedding fields; both 0 between
    chunks)."""

    table: str
    lines: int = 0
    bytes_read: int = 0
    bytes_total: int | None = None
    rows: int = 0
    embedded: int = 0
    to_embed: int = 0


@dataclass
class JsonlResult:
    """What a JSON Lines load did: ``rows`` written in ``chunks`` atomic batches from ``lines`` input lines
    (blank ones included); ``entities`` holds the written entities when they were asked for."""

    table: str
    rows: int = 0
    chunks: int = 0
    lines: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)


class JsonlLineError(ValidationError):
    """A line of JSON Lines input that could not be loaded (not UTF-8, not JSON, or a row its table
    refuses). ``line`` is the 1-based input line, ``chunk_start`` the first line of the chunk that was not
    written, ``written`` the rows written (by earlier chunks) before it."""

    def __init__(self, message: str, *, line: int, chunk_start: int, written: int, table: str,
                 field: str | None = None, detail: str | None = None) -> None:
        super().__init__(message, table=table, position=None, field=field, detail=detail)
        self.line = line
        self.chunk_start = chunk_start
        self.written = written


@dataclass
class _Line:
    number: int
    size: int
    value: Any


class JsonlLoader:
    """Reads JSON Lines from a source and hands them to ``write`` ``chunk_size`` rows at a time.

    ``name`` names the input in messages (``stdin line 3``); ``verb`` (``inserted`` or ``upserted``) says
    what happened to the rows written before a failing chunk."""

    def __init__(self, table: str, write: Writer, *, chunk_size: int = DEFAULT_CHUNK_SIZE, verb: str = "inserted",
                 keep_entities: bool = False, progress: Callable[[JsonlProgress], None] | None = None) -> None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValidationError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.table = table
        self.write = write
        self.chunk_size = chunk_size
        self.verb = verb
        self.keep_entities = keep_entities
        self.progress = progress
        self.result = JsonlResult(table)
        self.state = JsonlProgress(table)
        self.chunk_start = 1  # first line of the chunk being read

    def load(self, source: JsonlSource, name: str | None = None) -> JsonlResult:
        """Read every line of ``source`` and write its rows; returns the :class:`JsonlResult`."""
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            with path.open("rb") as stream:
                return self._load(stream, name or str(path))
        return self._load(source, name or _name_of(source))

    def _load(self, source: Iterable[str | bytes], name: str) -> JsonlResult:
        self.state.bytes_total = _input_size(source)
        chunk: list[_Line] = []
        for line in self._lines(source, name):
            chunk.append(line)
            if len(chunk) >= self.chunk_size:
                self._flush(chunk)
                self.chunk_start = line.number + 1
                chunk = []
        if chunk:
            self._flush(chunk)
        return self.result

    def _lines(self, source: Iterable[str | bytes], name: str) -> Iterator[_Line]:
        """Every non-blank line, parsed; errors name the line and the chunk that is dropped with it."""
        measure = self.progress is not None
        for number, raw in enumerate(source, start=1):
            self.result.lines = number
            if isinstance(raw, bytes):
                size = len(raw)
                text = self._decode(raw, f"{name} line {number}", number)
            else:
                text = raw
                size = len(raw.encode("utf-8", "surrogatepass")) if measure else 0
            if number == 1:
                text = text.lstrip("\ufeff")
            if not text.strip():
                self.state.bytes_read += size
                continue
            try:
                value = loads_exact(text)  # integers beyond 64 bits stay exact, to be refused by name
            except orjson.JSONDecodeError as exc:
                raise self._line_error(f"invalid JSON on {name} line {number}, column {exc.colno}: {exc.msg}",
                                       number) from None
            yield _Line(number, size, value)

    def _decode(self, raw: bytes, where: str, number: int) -> str:
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise self._line_error(f"{where} is binary data (NUL byte at offset {nul}), not UTF-8 JSON text",
                                   number)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._line_error(f"{where} is not UTF-8 text (invalid byte at offset {exc.start}); expected "
                                   f"UTF-8 JSON", number) from None

    def _flush(self, chunk: list[_Line]) -> None:
        rows = [line.value for line in chunk]
        try:
            written = self.write(rows, self._embedding if self.progress is not None else None)
        except ValidationError as exc:
            position = exc.position
            if position is None or not 0 <= position < len(chunk):
                exc.add_note(self._nothing_written())
                raise
            raise self._line_error(f"line {chunk[position].number}: {exc.table}: {exc.detail}",
                                   chunk[position].number, field=exc.field,
                                   detail=exc.detail) from None
        except DatabaseError as exc:  # the provider, the disk, a read-only database: not one line's fault
            exc.add_note(self._nothing_written())
            raise
        self.result.rows += len(written)
        self.result.chunks += 1
        if self.keep_entities:
            self.result.entities.extend(written)
        if self.progress is not None:
            self.state.rows = self.result.rows
            self.state.lines = chunk[-1].number
            self.state.bytes_read += sum(line.size for line in chunk)
            self.state.embedded = self.state.to_embed = 0  # no chunk in flight
            self.progress(self.state)

    def _embedding(self, done: int, total: int) -> None:
        assert self.progress is not None
        self.state.embedded, self.state.to_embed = done, total
        self.progress(self.state)

    def _line_error(self, message: str, line: int, field: str | None = None,
                    detail: str | None = None) -> JsonlLineError:
        return JsonlLineError(f"{message}\n{self._nothing_written()}", line=line, chunk_start=self.chunk_start,
                              written=self.result.rows, table=self.table, field=field,
                              detail=detail if detail is not None else message)

    def _nothing_written(self) -> str:
        written = self.result.rows
        rows = "row was" if written == 1 else "rows were"
        return (f"nothing from the chunk starting at line {self.chunk_start} was written; "
                f"{written} {rows} {self.verb} into {self.table} before it")


def _name_of(source: Any) -> str:
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "input"


def _input_size(source: Any) -> int | None:
    """The size of a regular file behind ``source`` (``None`` for pipes, terminals and line lists)."""
    try:
        info = os.fstat(source.fileno())
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None
