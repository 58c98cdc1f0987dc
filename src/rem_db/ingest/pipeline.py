"""The ingest pipeline (SPEC §8): files -> detected type -> blocks -> chunks -> one atomic write per file.

Per file: detect the type, hash it (sha256; text files are decode-checked in the same pass), compare with
the stored ``documents`` row (same hash and settings: nothing to do), read and chunk it, and write the
document row (``has_chunk`` edges to its chunks), the chunks (embedded) and the removal of chunks the new
version no longer has, in one batch (:func:`rem_db.entities.group.write_group`). Small files are written
together (one batch per ~``GROUP_CHUNKS`` chunks) so the embedding provider gets full batches; a file of
more than ``batch_chunks`` chunks is written in batches of that size as hidden rows and made visible with
its document row at once (:mod:`.staging`, docs/ingest.md). Records files (JSON, JSONL, CSV) are inserted
into their table in batches.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from ..entities.group import purge_hidden, write_group
from ..entities.ids import entity_id
from ..errors import DatabaseError, IngestError, ValidationError
from .blocks import Block
from .chunking import Chunk, ChunkSettings, chunk_blocks
from .context import ChunkContext, document_title
from .detect import Detected, FileProblem, detect
from .readers import read_blocks
from .records import read_records
from .report import ADDED, FAILED, SKIPPED, UNCHANGED, UPDATED, FileResult, IngestProgress, IngestReport
from .sources import IngestSources
from .staging import REL_TYPE, StagedDocument
from .walk import collect

log = logging.getLogger("rem_db.ingest")
# bump when the chunks made from the same file and settings change: every file is read and chunked again
# (2: context headers in chunk names, no overlap after table rows)
INGEST_FORMAT = 2
GROUP_CHUNKS = 256
BATCH_CHUNKS = 512  # chunks per part of a large file: the batch, and so memory, stays ~50 MB at most
RECORD_BATCH = 1000
HASH_BLOCK = 1 << 20
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
        if self.engine.hidden:  # chunks an interrupted ingest left: gone before anything new is written
            purge_hidden(self.engine)
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
        existing = self.engine.get_stored(doc_id.bytes)  # a hub's edges stay unread (their count)
        marker = {"format": INGEST_FORMAT, "schema": table, "chunk_tokens": self.options.chunking.chunk_tokens,
                  "overlap_tokens": self.options.chunking.overlap_tokens, "options": self.options_key}
        if _unchanged(existing, digest, marker):
            result.status, result.chunks = UNCHANGED, int(existing.get("chunk_count") or 0)
            return False
        result.status = UPDATED if existing is not None else ADDED
        info: dict[str, Any] = {}
        if detected.encoding and detected.encoding not in ("utf-8", "utf-8-sig"):
            info["encoding"] = detected.encoding
        batch = self.options.batch_chunks
        staged: StagedDocument | None = None
        rows: list[dict[str, Any]] = []
        try:
            if existing is not None and int(existing.get("chunk_count") or 0) > batch:
                staged = self._staged(doc_id, existing)  # a large stored version: replaced in parts too
            blocks, context = self._context(path, detected, info)
            for chunk in chunk_blocks(blocks, self.options.chunking, context.header_tokens):
                rows.append(self._chunk_row(chunk, uri, str(doc_id), detected, context, path.name))
                if len(rows) >= batch:
                    if staged is None:
                        staged = self._staged(doc_id, existing)
                    staged.write(rows)
                    self.state.chunks_written += len(rows)
                    self._notify()
                    rows = []
            if staged is None:
                if not rows:
                    raise FileProblem("no text to ingest", failed=False)
                ids = [entity_id(table, row, "uri").bytes for row in rows]
                doc = self._doc_row(path, detected, digest, size, uri, len(ids), marker, info, _chunk_edges(ids))
                result.chunks = len(ids)
                self._add_to_group(_Pending(result, doc, rows, self._stale(existing, doc_id.bytes, set(ids))))
                return True
            if rows:
                staged.write(rows)
                self.state.chunks_written += len(rows)
            if not staged.count:
                raise FileProblem("no text to ingest", failed=False)
            staged.commit(self._doc_row(path, detected, digest, size, uri, staged.count, marker, info, None))
            result.chunks = staged.count
            return False
        except Exception as exc:
            if staged is not None:
                raise staged.abandon(exc) from None
            raise
        finally:
            if staged is not None:
                staged.close()

    def _staged(self, doc_id: uuid.UUID, existing: dict[str, Any] | None) -> StagedDocument:
        """Start writing a large document in parts (after the small files read before it)."""
        self._flush_group()
        self.state.embedded = self.state.to_embed = 0
        return StagedDocument(self.engine, self.options.chunk_table, doc_id, existing, progress=self._embedding)

    def _context(self, path: Path, detected: Detected, info: dict[str, Any]) -> tuple[Iterator[Block], ChunkContext]:
        """The document's blocks and the context its chunks carry: the first block is read ahead, so the
        reader has recorded the metadata title and the first heading is known."""
        blocks = read_blocks(path, detected, info)
        first = next(blocks, None)
        heading = first.text if first is not None and first.heading and detected.kind != "xlsx" else None
        title = document_title(info.get("title"), heading, path.name)
        info["title"] = title
        context = ChunkContext(title, self.options.chunking.budget)
        return (itertools.chain([first], blocks) if first is not None else blocks), context

    def _chunk_row(self, chunk: Chunk, uri: str, doc_id: str, detected: Detected, context: ChunkContext,
                   file_name: str) -> dict[str, Any]:
        options = self.options
        metadata = {**options.metadata, "title": context.title, "file_name": file_name,
                    "heading_path": list(chunk.path), "page_start": chunk.page_start,
                    "page_end": chunk.page_end, "tokens": chunk.tokens}
        if detected.kind == "xlsx" and chunk.path:
            metadata["sheet"] = chunk.path[0]
        row = {"uri": f"{uri}#chunk-{chunk.ordinal:04d}", "chunk_ordinal": chunk.ordinal, "content": chunk.text,
               "name": context.name(chunk.path), "document_id": doc_id, "content_type": detected.content_type,
               "category": options.category, "tags": list(options.tags), "metadata": metadata}
        return {k: v for k, v in row.items() if k in self.chunk_props and v is not None}

    def _doc_row(self, path: Path, detected: Detected, digest: str, size: int, uri: str, chunks: int,
                 marker: dict[str, Any], info: dict[str, Any], edges: list[dict[str, Any]] | None) -> dict[str, Any]:
        row = {
            "name": path.name, "uri": uri, "content_type": detected.content_type, "file_size": size,
            "file_hash": digest, "category": self.options.category, "tags": list(self.options.tags),
            "chunk_count": chunks, "metadata": {**info, **self.options.metadata, "ingest": marker},
        }
        if edges is not None:
            row["edges"] = edges
        return row

    def _stale(self, existing: dict[str, Any] | None, doc16: bytes, keep: set[bytes]) -> list[bytes]:
        """Chunks of the stored version that the new one does not have: the document's ``has_chunk``
        targets, and rows of the chunk table whose indexed ``document_id`` names it (a streamed write that
        was interrupted may have left some without an edge)."""
        old: set[bytes] = set()
        if existing is not None:
            edges = existing.get("edges") or []
            if type(edges) is int:  # a hub: its edges are read from their keys
                edges = self.engine.edge_reader(doc16)
            old.update(uuid.UUID(e["dst"]).bytes for e in edges if e["rel_type"] == REL_TYPE)
        schema = self.sources.schemas.get(self.options.chunk_table)
        if "document_id" in schema.indexed_fields:
            old.update(self.engine.fields.equal(schema, "document_id", str(uuid.UUID(bytes=doc16))))
        return sorted(old - keep)

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


def _chunk_edges(ids: list[bytes]) -> list[dict[str, Any]]:
    """The document's ``has_chunk`` edges to its chunks, in ordinal order."""
    return [{"dst": str(uuid.UUID(bytes=i)), "rel_type": REL_TYPE, "properties": {"chunk_ordinal": n}}
            for n, i in enumerate(ids)]


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
    return chunk_blocks(read_blocks(path, detected, {}), settings)  # no context header: the text alone
