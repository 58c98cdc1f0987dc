"""The ingest pipeline (SPEC §8): files -> detected type -> blocks -> chunks -> one atomic write per file.

Per file: detect the type, hash it (sha256; text files are decode-checked in the same pass), compare with
the stored ``documents`` row (same hash and settings: nothing to do), read and chunk it, and write the
document row (``has_chunk`` edges to its chunks), the chunks (embedded) and the removal of chunks the new
version no longer has, in one batch (:func:`rem_db.entities.group.write_group`). Small files are written
together (one batch per ~``GROUP_CHUNKS`` chunks) so the embedding provider gets full batches; a file of
more than ``batch_chunks`` chunks is streamed in batches of that size with its document row written last
(see docs/ingest.md). Records files (JSON, JSONL, CSV) are inserted into their table in batches.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from ..entities.group import write_group
from ..entities.ids import entity_id
from ..errors import DatabaseError, IngestError, ValidationError
from .chunking import Chunk, ChunkSettings, chunk_blocks
from .detect import Detected, FileProblem, detect
from .readers import read_blocks
from .records import read_records
from .report import ADDED, FAILED, SKIPPED, UNCHANGED, UPDATED, FileResult, IngestProgress, IngestReport
from .sources import IngestSources
from .walk import collect

log = logging.getLogger("rem_db.ingest")
INGEST_FORMAT = 1  # bump when the chunks made from the same file and settings change: everything re-ingests
GROUP_CHUNKS = 256
BATCH_CHUNKS = 2048
RECORD_BATCH = 1000
HASH_BLOCK = 1 << 20
REL_TYPE = "has_chunk"
DOCUMENTS = "documents"
CHUNK_FIELDS = ("content", "uri", "chunk_ordinal", "document_id")


@dataclass
class IngestOptions:
    """Settings of one ingest run (see ``Database.ingest``)."""

    schema: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    recursive: bool = False
    glob: str | None = None
    follow_symlinks: bool = False
    batch_chunks: int = BATCH_CHUNKS

    @property
    def chunk_table(self) -> str:
        return self.schema or "resources"


@dataclass
class _Pending:
    """A document read and chunked, waiting for the group write."""

    result: FileResult
    doc: dict[str, Any]
    chunks: list[dict[str, Any]]
    stale: list[bytes]


class Ingestor:
    """Runs one ingest over a file or a directory into the entities of ``sources`` (built by the composition
    root: :meth:`rem_db.core.Core.ingest_sources`)."""

    def __init__(self, sources: IngestSources, options: IngestOptions,
                 progress: Callable[[IngestProgress], None] | None = None) -> None:
        self.sources = sources
        self.engine = sources.entities
        self.options = options
        self.on_progress = progress
        self.report = IngestReport()
        self.state = IngestProgress(files_total=0)
        self.group: list[_Pending] = []
        self.group_size = 0
        self.options_key = _options_key(options)

    # -- the run -----------------------------------------------------------------------------------
    def run(self, path: str | os.PathLike[str]) -> IngestReport:
        """Ingest the file or directory ``path``; a single file that cannot be ingested raises
        :class:`~rem_db.errors.IngestError`."""
        table = self.sources.schemas.get(self.options.chunk_table)  # an unknown table is an error up front
        self.chunk_props = set(table.properties)
        files, is_dir, problems, left_out = collect(path, self.options.recursive, self.options.glob,
                                                    exclude=self.sources.path,
                                                    follow_symlinks=self.options.follow_symlinks)
        for where, reason in problems:
            self.report.files.append(FileResult(where, FAILED, reason=reason))
        for where, reason in left_out:
            self.report.files.append(FileResult(where, SKIPPED, reason=reason))
        self.state.files_total = len(files)
        self._notify()
        for file in files:
            self.state.current = str(file)
            self._notify()
            self._file(file)
        self._flush_group()
        self.state.current = None
        self._notify()
        if not is_dir:
            bad = self.report.files[0]
            if bad.status in (SKIPPED, FAILED):
                raise IngestError(f"{bad.path}: {bad.reason}", path=bad.path)
        return self.report

    def _file(self, path: Path) -> None:
        result = FileResult(str(path), SKIPPED)
        self.report.files.append(result)
        pending = False
        try:
            detected = detect(path)
            result.content_type, result.kind = detected.content_type, detected.kind
            digest, size = file_digest(path, detected)
            if detected.is_records:
                self._records(path, detected, digest, size, result)
            else:
                pending = self._document(path, detected, digest, size, result)
        except FileProblem as exc:
            result.status, result.reason = (FAILED if exc.failed else SKIPPED), exc.reason
        except DatabaseError as exc:
            result.status, result.reason = FAILED, str(exc)
        except OSError as exc:
            result.status, result.reason = FAILED, f"cannot read: {exc.strerror or exc}"
        except Exception as exc:  # a parser bug on one file must not stop a directory
            log.debug("ingest of %s failed", path, exc_info=True)
            result.status, result.reason = FAILED, f"cannot read: {type(exc).__name__}: {exc}"
        if not pending:
            self.state.files_done += 1
            self._notify()

    # -- documents ---------------------------------------------------------------------------------
    def _document(self, path: Path, detected: Detected, digest: str, size: int, result: FileResult) -> bool:
        """Read and chunk a document; returns True when it waits in the group for its write."""
        table = self.options.chunk_table
        missing = [f for f in CHUNK_FIELDS if f not in self.chunk_props]
        if missing:
            raise FileProblem(f"table {table!r} cannot hold document chunks: it has no "
                              f"{', '.join(missing)} field{'s' if len(missing) > 1 else ''}")
        uri = path.as_uri()
        doc_id = entity_id(DOCUMENTS, {"uri": uri})
        result.document_id, result.table = str(doc_id), table
        existing = self.engine.get(doc_id.bytes)
        marker = {"format": INGEST_FORMAT, "schema": table, "chunk_tokens": self.options.chunking.chunk_tokens,
                  "overlap_tokens": self.options.chunking.overlap_tokens, "options": self.options_key}
        if _unchanged(existing, digest, marker):
            result.status, result.chunks = UNCHANGED, int(existing.get("chunk_count") or 0)
            return False
        result.status = UPDATED if existing is not None else ADDED
        info: dict[str, Any] = {}
        if detected.encoding and detected.encoding not in ("utf-8", "utf-8-sig"):
            info["encoding"] = detected.encoding
        rows: list[dict[str, Any]] = []
        ids: list[bytes] = []
        written: list[bytes] = []  # chunks committed ahead of the document row (files over batch_chunks)
        try:
            for chunk in chunk_blocks(read_blocks(path, detected, info), self.options.chunking):
                row = self._chunk_row(chunk, uri, str(doc_id), detected)
                rows.append(row)
                ids.append(entity_id(table, row, "uri").bytes)
                if len(rows) >= self.options.batch_chunks:
                    if not written:
                        self._flush_group()
                    self._write([(table, rows)], [])
                    written.extend(ids[len(written):])
                    rows = []
            if not ids:
                raise FileProblem("no text to ingest", failed=False)
            doc = self._doc_row(path, detected, digest, size, uri, ids, marker, info)
            stale = self._stale(existing, doc_id.bytes, set(ids))
            result.chunks = len(ids)
            if not written:
                self._add_to_group(_Pending(result, doc, rows, stale))
                return True
            self._write([(table, rows), (DOCUMENTS, [doc])], stale)
            self.state.chunks_written += len(ids)
            return False
        except Exception as exc:
            if written:
                raise self._abandon(existing, written, exc) from None
            raise

    def _chunk_row(self, chunk: Chunk, uri: str, doc_id: str, detected: Detected) -> dict[str, Any]:
        options = self.options
        metadata = {**options.metadata, "heading_path": list(chunk.path), "page_start": chunk.page_start,
                    "page_end": chunk.page_end, "tokens": chunk.tokens}
        row = {"uri": f"{uri}#chunk-{chunk.ordinal:04d}", "chunk_ordinal": chunk.ordinal, "content": chunk.text,
               "document_id": doc_id, "content_type": detected.content_type, "category": options.category,
               "tags": list(options.tags), "metadata": metadata}
        return {k: v for k, v in row.items() if k in self.chunk_props and v is not None}

    def _doc_row(self, path: Path, detected: Detected, digest: str, size: int, uri: str, ids: list[bytes],
                 marker: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": path.name, "uri": uri, "content_type": detected.content_type, "file_size": size,
            "file_hash": digest, "category": self.options.category, "tags": list(self.options.tags),
            "chunk_count": len(ids),
            "metadata": {**info, **self.options.metadata, "ingest": marker},
            "edges": [{"dst": str(uuid.UUID(bytes=i)), "rel_type": REL_TYPE, "properties": {"chunk_ordinal": n}}
                      for n, i in enumerate(ids)],
        }

    def _stale(self, existing: dict[str, Any] | None, doc16: bytes, keep: set[bytes]) -> list[bytes]:
        """Chunks of the stored version that the new one does not have: the document's ``has_chunk``
        targets, and rows of the chunk table whose indexed ``document_id`` names it (a streamed write that
        was interrupted may have left some without an edge)."""
        old: set[bytes] = set()
        if existing is not None:
            old.update(uuid.UUID(e["dst"]).bytes for e in existing.get("edges") or [] if e["rel_type"] == REL_TYPE)
        schema = self.sources.schemas.get(self.options.chunk_table)
        if "document_id" in schema.indexed_fields:
            old.update(self.engine.fields.equal(schema, "document_id", str(uuid.UUID(bytes=doc16))))
        return sorted(old - keep)

    def _abandon(self, existing: dict[str, Any] | None, written: list[bytes], exc: Exception) -> FileProblem:
        """A streamed file failed after some of its chunks were committed. A new document's chunks are taken
        back out; a stored document keeps its old hash, so the next ingest rewrites it whole."""
        reason = exc.reason if isinstance(exc, FileProblem) else str(exc)
        if existing is not None:
            return FileProblem(f"{reason}; {len(written)} of its chunks were already rewritten: ingest it again "
                               f"to finish")
        try:
            write_group(self.engine, [], written)
        except DatabaseError:
            log.warning("could not remove the %d chunks of a failed ingest", len(written), exc_info=True)
            return FileProblem(f"{reason}; {len(written)} chunks written before the failure could not be removed")
        return FileProblem(reason)

    # -- grouped writes ----------------------------------------------------------------------------
    def _add_to_group(self, pending: _Pending) -> None:
        self.group.append(pending)
        self.group_size += len(pending.chunks)
        if self.group_size >= GROUP_CHUNKS:
            self._flush_group()

    def _flush_group(self) -> None:
        group, self.group, self.group_size = self.group, [], 0
        if not group:
            return
        try:
            self._write_pending(group)
        except DatabaseError as exc:
            if len(group) == 1:
                _fail(group[0].result, exc)
            else:  # find the file at fault: write them one by one
                for pending in group:
                    try:
                        self._write_pending([pending])
                    except DatabaseError as one:
                        _fail(pending.result, one)
                    else:
                        self.state.chunks_written += len(pending.chunks)
        else:
            self.state.chunks_written += sum(len(p.chunks) for p in group)
        self.state.files_done += len(group)
        self._notify()

    def _write_pending(self, group: list[_Pending]) -> None:
        chunks = [row for p in group for row in p.chunks]
        stale = [i for p in group for i in p.stale]
        self._write([(self.options.chunk_table, chunks), (DOCUMENTS, [p.doc for p in group])], stale)

    def _write(self, puts: list[tuple[str, list[dict[str, Any]]]], remove: list[bytes]) -> None:
        self.state.embedded, self.state.to_embed = 0, 0
        write_group(self.engine, [(t, rows) for t, rows in puts if rows], remove, progress=self._embedding)

    # -- records -----------------------------------------------------------------------------------
    def _records(self, path: Path, detected: Detected, digest: str, size: int, result: FileResult) -> None:
        table = self.options.schema
        if table is None:
            raise FileProblem("a records file (JSON, JSONL, CSV): name the table for its rows with schema= "
                              "(rem ingest --schema TABLE)", failed=False)
        self._flush_group()  # keep the order of writes the order of files
        schema = self.sources.schemas.get(table)
        uri = path.as_uri()
        doc_id = entity_id(DOCUMENTS, {"uri": uri})
        result.document_id, result.table = str(doc_id), table
        existing = self.engine.get(doc_id.bytes)
        marker = {"format": INGEST_FORMAT, "schema": table, "options": self.options_key}
        if _unchanged(existing, digest, marker):
            result.status = UNCHANGED
            result.rows = int((existing.get("metadata") or {}).get("rows") or 0)
            return
        result.status = UPDATED if existing is not None else ADDED
        batch: list[dict[str, Any]] = []
        where: list[str] = []
        for place, row in read_records(path, detected, schema):
            batch.append(row)
            where.append(place)
            if len(batch) >= RECORD_BATCH:
                self._record_batch(table, batch, where, result)
                batch, where = [], []
        if batch:
            self._record_batch(table, batch, where, result)
        if not result.rows:
            raise FileProblem("no records in the file", failed=False)
        doc = {"name": path.name, "uri": uri, "content_type": detected.content_type, "file_size": size,
               "file_hash": digest, "category": self.options.category, "tags": list(self.options.tags),
               "chunk_count": 0,
               "metadata": {"table": table, "rows": result.rows, **self.options.metadata, "ingest": marker}}
        self._write([(DOCUMENTS, [doc])], [])

    def _record_batch(self, table: str, rows: list[dict[str, Any]], where: list[str], result: FileResult) -> None:
        try:
            self._write([(table, rows)], [])
        except ValidationError as exc:
            place = where[exc.position] if exc.position is not None and exc.position < len(where) else None
            before = f"; {result.rows} row{'s were' if result.rows != 1 else ' was'} written before it"
            message = f"{place}: {exc.detail}" if place else str(exc)
            raise FileProblem(f"{message} (nothing of this batch was written{before})") from None
        result.rows += len(rows)

    # -- progress ----------------------------------------------------------------------------------
    def _embedding(self, done: int, total: int) -> None:
        self.state.embedded, self.state.to_embed = done, total
        self._notify()

    def _notify(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.state)


def _fail(result: FileResult, exc: Exception) -> None:
    result.status, result.reason, result.chunks = FAILED, str(exc), 0


def _unchanged(existing: dict[str, Any] | None, digest: str, marker: dict[str, Any]) -> TypeGuard[dict[str, Any]]:
    """Whether the stored document row holds this very file ingested with the same settings."""
    return (existing is not None and not existing.get("deleted_at") and existing.get("file_hash") == digest
            and (existing.get("metadata") or {}).get("ingest") == marker)


def _options_key(options: IngestOptions) -> str:
    """A short digest of the options that land in the rows (category, tags, metadata)."""
    blob = orjson.dumps([options.category, list(options.tags), options.metadata], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]


def file_digest(path: Path, detected: Detected) -> tuple[str, int]:
    """``("sha256:<hex>", size)`` of a file, read in 1 MiB blocks; text is decode-checked on the way, so a
    bad byte deep in a large file is found before anything is written."""
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder(detected.encoding)("strict") if detected.encoding else None
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
            if decoder is not None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise FileProblem(f"not valid {detected.encoding} text (invalid byte at offset "
                                      f"{size + exc.start})") from None
            size += len(block)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileProblem(f"not valid {detected.encoding} text (truncated at the end)") from None
    return f"sha256:{digest.hexdigest()}", size


def iter_chunks(path: Path, settings: ChunkSettings | None = None) -> Iterator[Chunk]:
    """The chunks a file would be stored as (no database involved): for previews and tests."""
    detected = detect(path)
    return chunk_blocks(read_blocks(path, detected, {}), settings)
