"""Reading a whole table for export: the stored bytes of its rows in chunks, and their vectors.

Rows come from one sequential pass over the tenant's entities when the table is a large share of them
(:func:`~rem_db.query.scan.sequential_pays`), else from the table's row list with one multi-get per
chunk. Vectors of a chunk are read by one range scan over the table's vector keys (they are ordered by
id, like the rows), or by a multi-get when the range holds many more vectors than the chunk needs.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

import numpy as np
import orjson

from ..errors import StorageError
from ..graph.ids import id16_of, id_text
from ..index.vector_store import CF as VECTORS_CF
from ..index.vector_store import VectorStore
from ..query import scan
from .arrow_schema import Column
from .sources import ExportSources

T = TypeVar("T")
RawChunk = tuple[list[bytes], list[bytes]]  # (16-byte ids, stored JSON of those rows), in the same order
_ID = slice(7, 43)  # the id text in stored JSON: {"id":"<36 characters>", ...
_SCAN_SLACK = 4  # a vector range scan gives up once it has read this many times the chunk's rows


def _ids_of(raws: list[bytes]) -> list[bytes]:
    """The 16-byte ids of rows stored in the usual layout (their id text at a fixed place), all at once."""
    packed = bytes.fromhex(b"".join([raw[_ID] for raw in raws]).decode().replace("-", ""))
    return [packed[n:n + 16] for n in range(0, len(packed), 16)]


def _sequential(sources: ExportSources, table: str, include_deleted: bool, size: int) -> Iterator[RawChunk] | None:
    source = scan.sequential_chunks(sources.entities, table, fill_cache=False)
    if source is None:
        return None
    deleted = set() if include_deleted else scan.deleted_ids(sources.entities, table)

    def chunks() -> Iterator[RawChunk]:
        ids: list[bytes] = []
        raws: list[bytes] = []
        for usual, odd in source:
            usual_ids = _ids_of(usual)
            if deleted:
                kept = [(i, r) for i, r in zip(usual_ids, usual, strict=True) if i not in deleted]
                usual_ids, usual = [i for i, _ in kept], [r for _, r in kept]
            ids += usual_ids
            raws += usual
            for raw in odd:  # laid out otherwise: decoded
                row = orjson.loads(raw)
                if include_deleted or row.get("deleted_at") is None:
                    ids.append(id16_of(row["id"]))
                    raws.append(raw)
            while len(raws) >= size:
                yield ids[:size], raws[:size]
                del ids[:size], raws[:size]
        if raws:
            yield ids, raws

    return chunks()


def raw_chunks(sources: ExportSources, table: str, include_deleted: bool, size: int) -> Iterator[RawChunk]:
    """Every row of ``table`` (live ones unless ``include_deleted``) as stored, in chunks of ``size``."""
    if scan.sequential_pays(sources.entities, table):
        chunks = _sequential(sources, table, include_deleted, size)
        if chunks is not None:
            return chunks
    engine = sources.entities
    ids = engine.fields.table_ids(table, include_deleted)
    if engine.hidden:  # rows of an unfinished ingest (entities/hidden.py)
        ids = engine.hidden.visible(ids)

    def by_id() -> Iterator[RawChunk]:
        entity = engine.ks.entity
        while chunk := list(itertools.islice(ids, size)):
            raws = engine.store.multi_get("entities", [entity(i) for i in chunk])
            found = [(i, r) for i, r in zip(chunk, raws, strict=True) if r is not None]
            yield [i for i, _ in found], [r for _, r in found]

    return by_id()


def _scan_range(vectors: VectorStore, keys: list[bytes]) -> list[bytes | None] | None:
    """The stored vectors of ``keys`` (in their order) from one scan of their key range, or ``None`` when
    the range holds too many other vectors (a sparse chunk) for the scan to pay."""
    limit = _SCAN_SLACK * len(keys) + 16
    # a bulk read (fill_cache=False): keep the block cache for the rows and the indexes
    pairs = vectors.store.items(VECTORS_CF, min(keys), max(keys) + b"\x00", fill_cache=False)
    found = list(itertools.islice(pairs, limit + 1))
    if len(found) > limit:
        return None
    if len(found) == len(keys) and [k for k, _ in found] == keys:  # the usual case: every row has one
        return [v for _, v in found]
    by_key = dict(found)
    return [by_key.get(k) for k in keys]


def chunk_vectors(sources: ExportSources, table: str, columns: list[Column], ids: list[bytes]) -> dict[str, Any]:
    """``(matrix, present)`` per vector column for the rows ``ids`` of a chunk (raw float32 each)."""
    wanted = [c for c in columns if c.kind == "vector"]
    if not wanted or not ids:
        return {c.name: (np.zeros((0, c.dimensions or 0), np.float32), np.zeros(0, bool)) for c in wanted}
    out = {}
    for column in wanted:
        dims = column.dimensions or 0
        prefix = sources.vectors.prefix(table, column.spec or "")  # vector columns name their spec
        keys = [prefix + i for i in ids]
        raws = _scan_range(sources.vectors, keys)
        if raws is None:
            raws = sources.vectors.store.multi_get(VECTORS_CF, keys)
        stored = [r for r in raws if r is not None]
        if set(map(len, stored)) - {dims * 4}:
            bad, raw = next((n, r) for n, r in enumerate(raws) if r is not None and len(r) != dims * 4)
            raise StorageError(f"table {table!r}: the {column.name} of row {id_text(ids[bad])} has "
                               f"{len(raw) // 4} dimensions, not {dims} (run `rem index rebuild {table}`)")
        found = np.frombuffer(b"".join(stored), dtype="<f4").reshape(len(stored), dims)
        if len(stored) == len(ids):
            out[column.name] = (found, np.ones(len(ids), dtype=bool))
            continue
        present = np.fromiter((r is not None for r in raws), dtype=bool, count=len(raws))
        matrix = np.zeros((len(ids), dims), dtype=np.float32)
        matrix[present] = found
        out[column.name] = (matrix, present)
    return out


def read_ahead(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer.

    Reading and converting a chunk (RocksDB reads, Arrow's JSON reader) and writing the previous one
    (Parquet encoding) release the GIL, so the two overlap on two cores. An exception of the producer is
    raised in the consumer; a consumer that stops early (an error writing the file) stops the producer once
    this generator is closed: use it under :func:`contextlib.closing` (an exception's traceback keeps an
    abandoned generator alive)."""
    out: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                out.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((False, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            offer((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator stopped early: run its cleanup (an inner read_ahead's) now
                close()

    worker = threading.Thread(target=produce, name="rem-export-read", daemon=True)
    worker.start()
    try:
        while True:
            more, value = out.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # unblock a producer waiting to put
                out.get_nowait()
        worker.join()
