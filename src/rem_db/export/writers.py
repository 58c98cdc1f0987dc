"""File writers of exports: Parquet (zstd, one row group per chunk), CSV (pyarrow.csv) and JSON Lines (orjson).

Every writer writes to a hidden temporary file beside the target and renames it into place on
:meth:`Sink.commit`, so a failed export never leaves a half-written file (and never clobbers an older
export of the same name). OS errors become :class:`~rem_db.StorageError` naming the file.
"""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from ..errors import ConfigError, StorageError
from .arrow_schema import Column, arrow_schema
from .batches import Chunk, build_batch

FORMATS = ("parquet", "csv", "jsonl")
VECTOR_ZSTD_LEVEL = -5  # zstd's fast mode, for the vector columns of Parquet files
_BY_SUFFIX = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_for(path: Path, given: str | None) -> str:
    """The export format: ``given`` when set, else from the file extension (no extension: parquet)."""
    if given is not None:
        fmt = str(given).strip().lower()
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format {given!r} (formats: {', '.join(FORMATS)})")
        return fmt
    suffix = path.suffix.lower()
    if not suffix:
        return "parquet"
    if suffix not in _BY_SUFFIX:
        hint = " (JSON Lines files end in .jsonl)" if suffix == ".json" else ""
        raise ConfigError(f"cannot tell the export format from {path.name!r}{hint}: use an extension "
                          f"({', '.join(_BY_SUFFIX)}) or give the format (parquet, csv, jsonl)")
    return _BY_SUFFIX[suffix]


def io_error(path: Path, exc: OSError, what: str = "cannot write export file") -> StorageError:
    reason = exc.strerror or str(exc)
    return StorageError(f"{what} {path}: {reason}")


def prepare_dir(directory: Path) -> None:
    """Create ``directory`` (and its parents) when missing; a clear error when it cannot be."""
    if directory.is_dir():
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in [directory, *directory.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise StorageError(f"cannot create directory {directory}: {blocker} is a file, not a "
                               f"directory") from None
        raise io_error(directory, exc, "cannot create directory") from None


class Sink(ABC):
    """Writes chunks of one table to ``path`` (through a temporary file, renamed on commit)."""

    def __init__(self, path: Path, table: str, columns: list[Column], metadata: dict[str, str]) -> None:
        self.path = path
        self.table = table
        self.columns = columns
        self.metadata = metadata
        self.rows = 0
        prepare_dir(path.parent)
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self._open()
        except OSError as exc:
            self._discard()
            raise io_error(path, exc) from None

    @abstractmethod
    def _open(self) -> None:
        """Create the temporary file and its writer."""

    @abstractmethod
    def _write(self, chunk: Chunk) -> None:
        """Append one chunk."""

    @abstractmethod
    def _close(self) -> None:
        """Finish the temporary file (idempotent)."""

    def write(self, chunk: Chunk) -> None:
        try:
            self._write(chunk)
        except OSError as exc:
            raise io_error(self.path, exc) from None
        self.rows += len(chunk)

    def commit(self) -> int:
        """Finish the file and move it into place; returns its size in bytes."""
        try:
            self._close()
            os.replace(self.tmp, self.path)
            return self.path.stat().st_size
        except OSError as exc:
            self._discard()
            if self.path.is_dir():
                raise StorageError(f"cannot write export file {self.path}: it is a directory") from None
            raise io_error(self.path, exc) from None

    def abort(self) -> None:
        """Drop the temporary file (after an error)."""
        with contextlib.suppress(Exception):  # the file is being thrown away: a close error changes nothing
            self._close()
        self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)


def _leaves(field: pa.Field, prefix: str = "") -> list[str]:
    """Parquet column paths of an Arrow field (pyarrow's compliant nesting: ``name.list.element``)."""
    path = prefix + field.name
    kind = field.type
    if pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind):
        return _leaves(pa.field("element", kind.value_type), path + ".list.")
    if pa.types.is_struct(kind):
        return [leaf for i in range(kind.num_fields) for leaf in _leaves(kind.field(i), path + ".")]
    return [path]


class ParquetSink(Sink):
    """Parquet, zstd; each chunk is written as one row group (chunks are ``P8_EXPORT_ROW_GROUP_SIZE`` rows)."""

    def _open(self) -> None:
        import pyarrow.parquet as pq

        schema = arrow_schema(self.columns, metadata=self.metadata)
        options: dict[str, Any] = {}
        if any(c.kind == "vector" for c in self.columns):
            # dictionaries and min/max of floats are wasted work; and zstd at its default level saves only
            # ~8 % on embeddings for ~45 % more write time, so vector columns use zstd's fast mode (docs/export.md)
            vectors = self._vector_names()
            plain = [leaf for field in schema if field.name not in vectors for leaf in _leaves(field)]
            levels = {leaf: VECTOR_ZSTD_LEVEL for field in schema if field.name in vectors for leaf in _leaves(field)}
            options = {"use_dictionary": plain, "write_statistics": plain, "compression_level": levels}
        self.writer: Any = pq.ParquetWriter(str(self.tmp), schema, compression="zstd", **options)

    def _vector_names(self) -> set[str]:
        return {c.name for c in self.columns if c.kind == "vector"}

    def _write(self, chunk: Chunk) -> None:
        self.writer.write_batch(build_batch(self.table, self.columns, chunk), row_group_size=max(1, len(chunk)))

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class CsvSink(Sink):
    """CSV with a header line; lists, objects, edges and vectors as JSON text; timestamps in UTC."""

    def _open(self) -> None:
        import pyarrow.csv as pcsv

        self.schema = arrow_schema(self.columns, flat=True)
        self.writer: Any = pcsv.CSVWriter(str(self.tmp), self.schema)

    def _write(self, chunk: Chunk) -> None:
        self.writer.write_batch(build_batch(self.table, self.columns, chunk, flat=True))

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class JsonlSink(Sink):
    """JSON Lines: one object per entity with the export's columns in order; values as stored (timestamps
    as their ISO-8601 text, nested objects and lists as JSON), vectors as arrays of numbers. Undeclared
    fields stay as they are in each object, after the declared ones (not in an ``extra`` object); one named
    like a vector column goes in ``extra`` instead, so nothing is overwritten."""

    def _open(self) -> None:
        self.file: Any = open(self.tmp, "wb")  # noqa: SIM115 - closed by _close()
        self.plain = [c.name for c in self.columns if c.kind not in ("vector", "extra")]
        self.extra = next((c.name for c in self.columns if c.kind == "extra"), None)
        self.vectors = [c.name for c in self.columns if c.kind == "vector"]

    def _write(self, chunk: Chunk) -> None:
        dumps, option = orjson.dumps, orjson.OPT_SERIALIZE_NUMPY
        plain, extra = self.plain, self.extra
        vectors = [(name, *chunk.vectors[name]) for name in self.vectors]
        clash = set(self.vectors)
        lines = []
        for n, row in enumerate(chunk.rows):
            out = {name: row.get(name) for name in plain}
            undeclared = chunk.extra[n] if extra is not None and chunk.extra is not None else None
            if undeclared:
                kept = {k: v for k, v in undeclared.items() if k in clash}
                out.update((k, v) for k, v in undeclared.items() if k not in clash)
                if kept:
                    out[extra] = kept  # type: ignore[index]
            for name, matrix, present in vectors:
                out[name] = matrix[n] if present[n] else None
            lines.append(dumps(out, option=option))
        if lines:
            self.file.write(b"\n".join(lines) + b"\n")

    def _close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()


SINKS: dict[str, type[Sink]] = {"parquet": ParquetSink, "csv": CsvSink, "jsonl": JsonlSink}


def open_sink(fmt: str, path: Path, table: str, columns: list[Column], metadata: dict[str, str]) -> Sink:
    """A writer of ``fmt`` for one table's file."""
    return SINKS[fmt](path, table, columns, metadata)

