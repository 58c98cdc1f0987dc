"""One RocksDB database per REM directory, opened through rocksdict in raw (bytes) mode.

The store knows column families, keys and bytes only: no schemas, SQL, vectors or CLI. Every logical write
is one :class:`Batch` committed atomically across column families.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    Cache,
    DBCompressionType,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
    WriteOptions,
)

from ..config import StorageSettings
from ..errors import LockedError, NotFoundError, ReadOnlyError, StorageError

#: Column families of SPEC §3. New features add theirs here; they are created on first open.
COLUMN_FAMILIES = (
    "entities",  # tenant + id -> entity JSON
    "key_index",  # tenant + key value + table + id -> b""
    "field_index",  # tenant + table + field + typed value + id -> b""
    "edges",  # tenant + src id + rel_type + dst id -> edge JSON
    "reverse_edges",  # tenant + dst id + rel_type + src id -> edge JSON
    "embeddings",  # vectors as raw little-endian float32
    "wal",  # sequence (u64 big-endian) -> WAL record
    "key_material",  # wrapped keys and salts
    "meta",  # format version and other database-wide values
    "fulltext",  # BM25 postings and document lengths over embedded text
    "adjacency",  # tenant + id + b"o" -> packed outgoing neighbour ids (graph/adjacency.py)
)

HOLDER_FILE = "HOLDER"
BLOCK_CACHE_BYTES = 64 * 1024 * 1024  # one LRU cache of uncompressed blocks, shared by every column family
READ_ONLY_OPEN_ATTEMPTS = 8
_COMPRESSION = {
    "none": DBCompressionType.none,
    "snappy": DBCompressionType.snappy,
    "zlib": DBCompressionType.zlib,
    "bz2": DBCompressionType.bz2,
    "lz4": DBCompressionType.lz4,
    "lz4hc": DBCompressionType.lz4hc,
    "zstd": DBCompressionType.zstd,
}


def _options(settings: StorageSettings, cache: Cache) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    opts.set_compression_type(_COMPRESSION[settings.compression]())
    if settings.write_buffer_size:
        opts.set_write_buffer_size(settings.write_buffer_size)
    if settings.max_background_jobs:
        opts.set_max_background_jobs(settings.max_background_jobs)
    table = BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_bloom_filter(10, False)
    opts.set_block_based_table_factory(table)
    return opts


class _Closed(dict):
    """Stands in for the column-family maps after close, so any use is a clear error."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def __getitem__(self, key: str) -> object:
        raise StorageError(f"database {self.path} is closed")


class Batch:
    """Puts and deletes across column families, committed as one atomic RocksDB write.

    ``on_commit`` callbacks run once the batch is written (the committer calls them), e.g. to update
    in-memory vector indexes. ``before_write`` callbacks run just before it is written (they may still add
    to it: derived values staged during the batch, kept in ``stash``, are put once each).
    """

    __slots__ = ("_batch", "_store", "before_write", "count", "on_commit", "stash")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._batch = WriteBatch(raw_mode=True)
        self.count = 0
        self.on_commit: list = []
        self.before_write: list = []
        self.stash: dict = {}

    def put(self, cf: str, key: bytes, value: bytes = b"") -> None:
        self._batch.put(key, value, self._store.handles[cf])
        self.count += 1

    def put_keys(self, cf: str, keys: set[bytes] | list[bytes]) -> None:
        """Put many keys with empty values (index entries)."""
        handle, put = self._store.handles[cf], self._batch.put
        for key in keys:
            put(key, b"", handle)
        self.count += len(keys)

    def delete(self, cf: str, key: bytes) -> None:
        self._batch.delete(key, self._store.handles[cf])
        self.count += 1

    def apply(self, cf: str, ops: list[tuple[bytes, bytes | None]]) -> None:
        """Puts (``(key, value)``) and deletes (``(key, None)``), in order: for hot loops."""
        handle, put, delete = self._store.handles[cf], self._batch.put, self._batch.delete
        for key, value in ops:
            if value is None:
                delete(key, handle)
            else:
                put(key, value, handle)
        self.count += len(ops)


class Store:
    """A RocksDB directory with REM's column families, opened read-write (one process) or read-only."""

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False,
                 settings: StorageSettings | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.read_only = read_only
        self.settings = settings or StorageSettings.from_env()
        self._check_path()
        cache = Cache(BLOCK_CACHE_BYTES)
        opts = _options(self.settings, cache)
        families = {name: _options(self.settings, cache) for name in COLUMN_FAMILIES}
        existing = set(Rdict.list_cf(str(self.path), Options(raw_mode=True))) \
            if (self.path / "CURRENT").exists() else set()
        if read_only:
            families = {name: o for name, o in families.items() if name in existing}
        # RocksDB opens a directory only with all of its families: keep ones this version does not use
        families.update({name: _options(self.settings, cache) for name in existing - families.keys() - {"default"}})
        self._db = self._open(opts, families)
        self.cfs = {name: self._db.get_column_family(name) for name in families}
        self.handles = {name: self._db.get_column_family_handle(name) for name in families}
        self._write_opts = WriteOptions()
        self._write_opts.sync = self.settings.sync_writes
        if not read_only:
            self._write_holder()
        self.closed = False

    # -- opening -----------------------------------------------------------------------------------
    def _check_path(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise StorageError(f"{self.path} is a file, not a database directory")
        if self.read_only and not (self.path / "CURRENT").exists():
            raise NotFoundError(f"no database at {self.path} (run `rem init` first)")

    def _open(self, opts: Options, families: dict[str, Options]) -> Rdict:
        access = AccessType.read_only() if self.read_only else AccessType.read_write()
        for attempt in range(READ_ONLY_OPEN_ATTEMPTS):
            try:
                return Rdict(str(self.path), opts, column_families=families, access_type=access)
            except Exception as exc:  # rocksdict raises plain Exception with RocksDB's status text
                # A writer that flushes or closes meanwhile may delete files a read-only open was about to
                # read; the next attempt sees the new file set.
                transient = self.read_only and ("No such file" in str(exc) or "Corruption" in str(exc))
                if not transient or attempt == READ_ONLY_OPEN_ATTEMPTS - 1:
                    raise self._open_error(exc) from None
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def _open_error(self, exc: Exception) -> Exception:
        text = str(exc)
        if "lock" in text.lower() and ("LOCK" in text or "No locks" in text):
            return LockedError(f"database {self.path} is held read-write by {self.holder()}; "
                               f"open it with read_only=True (rem --read-only) to read it")
        return StorageError(f"cannot open database {self.path}: {text}")

    def holder(self) -> str:
        """Who holds the directory read-write, as recorded in its HOLDER file."""
        try:
            info = (self.path / HOLDER_FILE).read_text().strip()
        except OSError:
            return "another process"
        if info.startswith(f"pid {os.getpid()} "):
            return f"this process ({info})"
        return f"another process ({info})"

    def _write_holder(self) -> None:
        with contextlib.suppress(OSError):
            (self.path / HOLDER_FILE).write_text(f"pid {os.getpid()} on {socket.gethostname()}\n")

    # -- reads -------------------------------------------------------------------------------------
    def get(self, cf: str, key: bytes) -> bytes | None:
        return self.cfs[cf].get(key)

    def multi_get(self, cf: str, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        return self.cfs[cf].get(keys)

    def scan(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False,
             keys_only: bool = False) -> Iterator[tuple[bytes, bytes | None]]:
        """Yield ``(key, value)`` for ``lower <= key < upper`` in key order (or reverse)."""
        opts = ReadOptions()
        opts.set_iterate_upper_bound(upper)
        it = self.cfs[cf].iter(opts)
        # rocksdict mishandles iterate_lower_bound (seek_to_first ignores it, seek_for_prev skips keys),
        # so the lower end is enforced here.
        if reverse:
            it.seek_to_last()
            while it.valid():
                key = it.key()
                if key < lower:
                    return
                yield key, (None if keys_only else it.value())
                it.prev()
        else:
            it.seek(lower)
            while it.valid():
                key = it.key()
                if key >= upper:
                    return
                yield key, (None if keys_only else it.value())
                it.next()

    def scan_keys(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False) -> Iterator[bytes]:
        """Keys with ``lower <= key < upper`` in key order (or reverse)."""
        if reverse:
            return (key for key, _ in self.scan(cf, lower, upper, reverse=True, keys_only=True))
        return self._forward_keys(cf, lower, upper)

    def _forward_keys(self, cf: str, lower: bytes, upper: bytes) -> Iterator[bytes]:
        opts = ReadOptions()  # must stay alive while the iterator runs: it holds the upper bound
        opts.set_iterate_upper_bound(upper)
        yield from self.cfs[cf].keys(from_key=lower, read_opt=opts)  # iterated in Rust: ~3x faster

    def count(self, cf: str, lower: bytes, upper: bytes) -> int:
        opts = ReadOptions()
        opts.set_iterate_upper_bound(upper)
        return sum(1 for _ in self.cfs[cf].keys(from_key=lower, read_opt=opts))

    def last_key(self, cf: str) -> bytes | None:
        it = self.cfs[cf].iter()
        it.seek_to_last()
        return it.key() if it.valid() else None

    # -- writes ------------------------------------------------------------------------------------
    def batch(self) -> Batch:
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        return Batch(self)

    def write(self, batch: Batch) -> None:
        """Commit a batch atomically. It reaches the OS before this returns (survives kill -9);
        with ``P8_SYNC_WRITES=true`` it is also fsynced (survives power loss)."""
        for hook in batch.before_write:
            hook()
        batch.before_write = []
        if batch.count == 0:
            return
        try:
            self._db.write(batch._batch, self._write_opts)
        except Exception as exc:
            raise StorageError(f"write to {self.path} failed: {exc}") from None

    def flush(self) -> None:
        if not self.read_only:
            self._db.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.cfs = _Closed(self.path)
        self.handles = _Closed(self.path)
        if not self.read_only:
            with contextlib.suppress(OSError):
                (self.path / HOLDER_FILE).unlink()
        self._db.close()
