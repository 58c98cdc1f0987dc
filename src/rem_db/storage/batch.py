"""One logical write: puts and deletes across column families, staged in a RocksDB write batch together with
the columns of its WAL record (storage/wal.py), committed by :meth:`~rem_db.storage.store.Store.write`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rocksdict import WriteBatch as RocksBatch

from . import wal
from .families import FAMILY_IDS
from .kv import ValueCodec

if TYPE_CHECKING:
    from .store import Store

_FAMILY_BYTE = {name: bytes((n,)) for name, n in FAMILY_IDS.items()}
_EMPTY = [b""]


class Batch:
    """Puts and deletes across column families, committed as one atomic RocksDB write by
    :meth:`Store.write`.

    Values pass through the store's value codec as they are staged, and (with the WAL on) every operation is
    also recorded for the batch's WAL record. ``on_commit`` callbacks run once the batch is written, with its
    WAL sequence (e.g. to update in-memory vector indexes). ``before_write`` callbacks run just before it is
    written (they may still add to it: derived values staged during the batch, kept in ``stash``, are put
    once each).
    """

    __slots__ = ("_batch", "_cfs", "_codec", "_keys", "_store", "_values", "before_write", "count",
                 "on_commit", "stash")

    def __init__(self, store: Store) -> None:
        # the store, not its handles: a batch kept alive (e.g. in a reference cycle through ``stash``) must
        # not keep RocksDB open after the store is closed
        self._store = store
        self._codec: ValueCodec | None = store.codec if store.codec.families else None
        # the WAL record's columns (storage/wal.py), filled as operations are staged; None with the WAL off
        self._cfs: bytearray | None = bytearray() if store.wal_enabled else None
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._batch = RocksBatch(raw_mode=True)
        self.count = 0
        self.on_commit: list[Callable[[int], None]] = []
        self.before_write: list[Callable[[], None]] = []
        self.stash: dict[str, Any] = {}

    def put(self, cf: str, key: bytes, value: bytes = b"") -> None:
        if self._codec is not None and cf in self._codec.families:
            value = self._codec.encode(cf, key, value)
        self._batch.put(key, value, self._store.handles[cf])
        if self._cfs is not None:
            self._cfs.append(FAMILY_IDS[cf])
            self._keys.append(key)
            self._values.append(value)
        self.count += 1

    def put_many(self, cf: str, keys: list[bytes], values: list[bytes]) -> None:
        """Put ``keys[i] -> values[i]`` (one call for the many postings of a document)."""
        if self._codec is not None and cf in self._codec.families:
            for key, value in zip(keys, values, strict=True):
                self.put(cf, key, value)
            return
        handle, put = self._store.handles[cf], self._batch.put
        for key, value in zip(keys, values, strict=True):
            put(key, value, handle)
        if self._cfs is not None:
            self._cfs += _FAMILY_BYTE[cf] * len(keys)
            self._keys += keys
            self._values += values
        self.count += len(keys)

    def put_keys(self, cf: str, keys: set[bytes] | list[bytes]) -> None:
        """Put many keys with empty values (index entries)."""
        if self._codec is not None and cf in self._codec.families:
            for key in keys:
                self.put(cf, key)
            return
        handle, put = self._store.handles[cf], self._batch.put
        for key in keys:
            put(key, b"", handle)
        if self._cfs is not None:
            n = len(keys)
            self._cfs += _FAMILY_BYTE[cf] * n
            self._keys += keys
            self._values += _EMPTY * n
        self.count += len(keys)

    def delete(self, cf: str, key: bytes) -> None:
        self._batch.delete(key, self._store.handles[cf])
        if self._cfs is not None:
            self._cfs.append(FAMILY_IDS[cf] | wal.DELETE_FLAG)
            self._keys.append(key)
            self._values.append(b"")
        self.count += 1

    def apply(self, cf: str, ops: list[tuple[bytes, bytes | None]]) -> None:
        """Puts (``(key, value)``) and deletes (``(key, None)``), in order: for hot loops."""
        if (self._codec is not None and cf in self._codec.families) or self._cfs is not None:
            for key, value in ops:
                if value is None:
                    self.delete(cf, key)
                else:
                    self.put(cf, key, value)
            return
        handle, put, delete = self._store.handles[cf], self._batch.put, self._batch.delete
        for key, value in ops:
            if value is None:
                delete(key, handle)
            else:
                put(key, value, handle)
        self.count += len(ops)

    def stage_record(self, seq: int, codec: ValueCodec) -> None:
        """Put the batch's WAL record (when the WAL is on) and the commit position ``seq`` (the committer
        calls this under its lock)."""
        key = wal.seq_key(seq)
        if self._cfs is not None:
            record = wal.encode(self._cfs, self._keys, self._values)
            if wal.CF in codec.families:
                record = codec.encode(wal.CF, key, record)
            self._batch.put(key, record, self._store.handles[wal.CF])
        # not part of the record, and not through the codec: the position is the store's own bookkeeping,
        # kept with the WAL off too (the vector indexes compare it with the sequence their files cover)
        self._batch.put(wal.POSITION_KEY, key, self._store.handles[wal.POSITION_CF])
