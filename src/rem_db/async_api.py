"""``AsyncDatabase``: every :class:`~rem_db.Database` method as a coroutine that runs on a worker thread,
so the event loop never blocks on RocksDB or validation."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from .database import Database

#: Database methods mirrored as coroutines. Iterators (``rows``) are materialised into lists; ``close`` is
#: defined on the class (``__aexit__`` calls it).
_MIRRORED = (
    "register_schema", "list_schemas", "get_schema", "remove_schema", "add_schema_from_template",
    "insert", "insert_batch", "upsert", "update", "delete", "get", "get_batch", "count", "lookup",
    "lookup_batch", "stats", "wait_idle",
    "add_edge", "add_edges", "remove_edge", "edges", "traverse", "shortest_path", "neighbors_batch",
    "search", "search_vector", "rebuild_index",
    "query", "explain", "ingest", "export",
    "insert_jsonl", "traverse_dot", "entity_labels", "schema_fields", "embedded_text",
)


class AsyncDatabase:
    """``async with AsyncDatabase(path) as db: await db.insert(...)``.

    Opening happens in a thread too (``await AsyncDatabase.open(...)`` or ``async with``). Calls run on a
    single-thread executor per database, so they keep their order.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args, self._kwargs = args, kwargs
        self._db: Database | None = None

    @classmethod
    async def open(cls, *args: Any, **kwargs: Any) -> AsyncDatabase:
        self = cls(*args, **kwargs)
        await self._ensure_open()
        return self

    async def _ensure_open(self) -> Database:
        if self._db is None:
            self._db = await asyncio.to_thread(Database, *self._args, **self._kwargs)
        return self._db

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

    async def close(self) -> None:
        """Drain the background worker, flush memtables and release the directory (:meth:`Database.close`)."""
        db = await self._ensure_open()
        await asyncio.to_thread(db.close)

    async def rows(self, table: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        db = await self._ensure_open()
        return await asyncio.to_thread(lambda: list(db.rows(table, include_deleted)))


def _mirror(name: str) -> Any:
    method = getattr(Database, name)

    @functools.wraps(method)
    async def call(self: AsyncDatabase, *args: Any, **kwargs: Any) -> Any:
        db = await self._ensure_open()
        return await asyncio.to_thread(getattr(db, name), *args, **kwargs)

    return call


for _name in _MIRRORED:
    setattr(AsyncDatabase, _name, _mirror(_name))
