"""``AsyncDatabase``: every :class:`~rem_db.Database` method as a coroutine that runs on a worker thread,
so the event loop never blocks on RocksDB or validation.

Writes keep their call order: each write is queued when the method is called (not when its coroutine is
first awaited) and runs on one dedicated writer thread per database, one at a time (a queue plus one thread,
as Datasette's write thread; the returned coroutine awaits the future of the call). Reads run in parallel on
the default executor's threads; a read started after a write was awaited sees that write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .database import Database
from .errors import StorageError

#: Methods that change the database (or, like ``wait_idle``, wait for earlier changes): they run on the
#: writer thread, in the order they were called. ``close`` is defined on the class.
_WRITES = (
    "register_schema", "remove_schema", "add_schema_from_template",
    "insert", "insert_batch", "upsert", "update", "delete",
    "add_edge", "add_edges", "remove_edge",
    "rebuild_index", "ingest", "insert_jsonl", "wait_idle",
    "backup",  # after every write called before it: the copy holds them
    "dream",  # reads the writes called before it, writes its moments in call order
    "serve", "replicate", "promote",
)

#: Methods that only read: they run in parallel on other threads. Iterators (``rows``) are materialised
#: into lists (``rows`` is defined on the class).
_READS = (
    "list_schemas", "get_schema", "get", "get_batch", "count", "lookup", "lookup_batch", "stats",
    "edges", "traverse", "shortest_path", "neighbors_batch",
    "search", "search_vector", "query", "explain", "export", "ask",
    "traverse_dot", "entity_labels", "schema_fields", "embedded_text",
    "replication_status", "wal_status",
)


class AsyncDatabase:
    """``async with AsyncDatabase(path) as db: await db.insert(...)``.

    Opening happens on the writer thread (``await AsyncDatabase.open(...)`` or ``async with``; any first
    call opens too). Writes (``_WRITES``: inserts, updates, deletes, edges, schemas, ingest, rebuilds,
    ``wait_idle`` and ``close``) are queued on that single writer thread when called, so
    ``asyncio.gather(db.insert(...), db.update(...))`` applies the insert first, and ``close`` runs after every
    write called before it. A write runs even if its coroutine is never awaited. Reads (``_READS``) run in
    parallel on other threads.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args, self._kwargs = args, kwargs
        self._db: Database | None = None
        self._writer: ThreadPoolExecutor | None = None  # one thread: runs its queue in submission order
        self._opened: Future[Database] | None = None
        self._closing: Future[None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, *args: Any, **kwargs: Any) -> AsyncDatabase:
        """Open a database (``Database(*args, **kwargs)``) without blocking the event loop."""
        self = cls(*args, **kwargs)
        await self._ensure_open()
        return self

    # -- the writer thread -------------------------------------------------------------------------------
    def _open_future(self) -> Future[Database]:
        """The future of the open. The first call queues the open as the writer thread's first job; after a
        failed open (e.g. :class:`~rem_db.LockedError`) the next call tries again."""
        opened = self._opened
        if opened is None or (opened.done() and opened.exception() is not None and not self._closed):
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rem-async-writer")
            opened = self._opened = self._writer.submit(self._open_sync)
        return opened

    def _open_sync(self) -> Database:
        self._db = Database(*self._args, **self._kwargs)
        return self._db

    async def _ensure_open(self) -> Database:
        if self._closed and self._opened is None:
            raise StorageError("the AsyncDatabase is closed (it was never opened)")
        return await asyncio.wrap_future(self._open_future())

    def _write(self, fn: Callable[[Database], Any]) -> Coroutine[Any, Any, Any]:
        """Queue ``fn(db)`` on the writer thread now, at call time, so the writer runs writes in the order
        they were called (even for coroutines created first and awaited later); the returned coroutine
        awaits its result."""
        if self._closed:
            return self._after_close(fn)
        opened = self._open_future()
        assert self._writer is not None
        # the open was queued first, so it has finished (or failed) when fn runs
        return _result(self._writer.submit(lambda: fn(opened.result())))

    async def _after_close(self, fn: Callable[[Database], Any]) -> Any:
        """A write called after :meth:`close`: once the close has run, the closed Database raises its own
        error (:class:`~rem_db.StorageError`)."""
        await self._closed_settled()
        return await asyncio.to_thread(fn, await self._ensure_open())

    async def _closed_settled(self) -> None:
        """Wait for a close already under way (its error, if any, was raised to its own caller)."""
        if self._closing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(self._closing)

    def _close_sync(self) -> None:
        if self._db is not None:  # None: the open failed, nothing to close
            self._db.close()

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def sync(self) -> Database:
        """The underlying :class:`Database` (after opening)."""
        if self._db is None:
            raise RuntimeError("AsyncDatabase is not open yet: use `async with` or `await AsyncDatabase.open()`")
        return self._db

    async def __aenter__(self) -> AsyncDatabase:
        await self._ensure_open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def close(self) -> Coroutine[Any, Any, None]:
        """Close after every write called before it (``await db.close()``): then :meth:`Database.close` runs
        (drain the background worker, save the indexes, flush and release the directory) and the writer
        thread stops. Writes called after it raise the closed database's error. A second call waits for the
        first; a database that was never opened is not opened just to close it."""
        if self._closed:
            return self._closed_settled()
        self._closed = True
        writer = self._writer
        if writer is None:
            return _result(None)
        self._closing = writer.submit(self._close_sync)
        writer.shutdown(wait=False)  # the close is its last job; the thread ends after running it
        return _result(self._closing)

    async def rows(self, table: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every row of ``table`` as a list (:meth:`Database.rows`)."""
        db = await self._ensure_open()
        return await asyncio.to_thread(lambda: list(db.rows(table, include_deleted)))


def _write_method(name: str) -> Any:
    method = getattr(Database, name)

    @functools.wraps(method)
    def call(self: AsyncDatabase, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        # queued when called, not when first awaited: the writer runs writes in call order
        return self._write(lambda db: getattr(db, name)(*args, **kwargs))

    return call


async def _result(future: Future[Any] | None) -> Any:
    """Await a writer job's result without blocking the event loop (``None``: nothing to wait for)."""
    if future is None:
        return None
    return await asyncio.wrap_future(future)


def _read_method(name: str) -> Any:
    method = getattr(Database, name)

    @functools.wraps(method)
    async def call(self: AsyncDatabase, *args: Any, **kwargs: Any) -> Any:
        db = await self._ensure_open()
        return await asyncio.to_thread(getattr(db, name), *args, **kwargs)

    return call


for _name in _WRITES:
    setattr(AsyncDatabase, _name, _write_method(_name))
for _name in _READS:
    setattr(AsyncDatabase, _name, _read_method(_name))
