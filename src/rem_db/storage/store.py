"""One RocksDB database per REM directory, opened through rocksdict in raw (bytes) mode: the one
implementation of :class:`~rem_db.storage.kv.KVStore` (with :mod:`.batch` and :mod:`.rocks_options`, the only
modules that import rocksdict).

The store knows column families, keys and bytes only: no schemas, SQL, vectors or CLI. Every logical write
is one :class:`Batch` committed by :meth:`Store.write`, the one commit path: the batch's values pass through
the value codec, and its WAL record (storage/wal.py) is written in the same atomic write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rocksdict import AccessType, Cache, Checkpoint, Options, Rdict, ReadOptions, WriteOptions
from rocksdict import WriteBatch as RocksBatch

from ..config import Settings
from ..errors import LockedError, NotFoundError, ReadOnlyError, StorageError
from . import wal
from .batch import Batch
from .families import COLUMN_FAMILIES
from .kv import IdentityCodec, ValueCodec
from .rocks_options import BLOCK_CACHE_BYTES, bounded, db_options

log = logging.getLogger("rem_db.storage")
HOLDER_FILE = "HOLDER"
READ_ONLY_OPEN_ATTEMPTS = 8
_UNKNOWN = -1  # Store._wal_first before the first lookup

#: ``meta`` key of this directory's replica role (:meth:`Store.set_replica`): written with :meth:`Store.put_local`
REPLICA_KEY = b"replication.replica"


def replica_refusal(path: Path) -> str:
    return (f"replica is read-only: {path} follows a primary; write to the primary, or promote this replica "
            f"(`rem replication promote`)")


def _read_error(cf: str, keys: list[bytes], exc: Exception) -> StorageError:
    """A failed RocksDB read as a typed error naming what was read (a damaged file fails its checksum)."""
    which = keys[0].hex() + (f" (and {len(keys) - 1} more)" if len(keys) > 1 else "")
    return StorageError(f"reading {cf} key {which} failed: {exc}")


class _Closed(dict[str, Any]):
    """Stands in for the column-family maps after close, so any use is a clear error."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def __getitem__(self, key: str) -> Any:
        raise StorageError(f"database {self.path} is closed")


class StoreSnapshot:
    """Point reads of a store as of one commit (:meth:`Store.snapshot`); ``wal_seq`` is the last commit it
    includes. Range reads are not offered: rocksdict 0.3.29's snapshot iterators read the live data, not the
    snapshot (a consistent copy of whole ranges is :meth:`Store.checkpoint`)."""

    def __init__(self, store: Store, views: dict[str, Any], wal_seq: int) -> None:
        self._codec = store.codec
        self._views = views
        self.wal_seq = wal_seq

    def get(self, cf: str, key: bytes) -> bytes | None:
        try:
            raw = self._views[cf][key]
        except KeyError:
            return None
        except Exception as exc:  # rocksdict raises a plain Exception for a missing key
            if "not found" in str(exc):
                return None
            raise StorageError(f"snapshot read failed: {exc}") from None
        return self._codec.decode(cf, key, raw) if cf in self._codec.families else raw

    def close(self) -> None:
        self._views = {}


class Store:
    """A RocksDB directory with REM's column families, opened read-write (one process), read-only, or as a
    secondary instance that follows a writer (``secondary=`` a directory of its own for RocksDB's logs)."""

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False,
                 settings: Settings | None = None, codec: ValueCodec | None = None,
                 secondary: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.read_only = read_only or secondary is not None
        self.secondary = Path(secondary).expanduser().resolve() if secondary is not None else None
        self.settings = settings or Settings.from_env()
        self.codec: ValueCodec = codec or IdentityCodec()
        self.wal_enabled = self.settings.wal_enabled
        self._check_path()
        cache = Cache(BLOCK_CACHE_BYTES)
        opts = db_options(self.settings, cache)
        families = {name: db_options(self.settings, cache) for name in COLUMN_FAMILIES}
        existing = set(Rdict.list_cf(str(self.path), Options(raw_mode=True))) \
            if (self.path / "CURRENT").exists() else set()
        if self.read_only:
            families = {name: o for name, o in families.items() if name in existing}
        # RocksDB opens a directory only with all of its families: keep ones this version does not use
        families.update({name: db_options(self.settings, cache) for name in existing - families.keys() - {"default"}})
        self._db = self._open(opts, families)
        self.cfs = {name: self._db.get_column_family(name) for name in families}
        self.handles = {name: self._db.get_column_family_handle(name) for name in families}
        self._write_opts = WriteOptions()
        self._write_opts.sync = self.settings.sync_writes
        self._commit_lock = threading.Lock()
        self._wal_seq = self._stored_position()
        self._wal_first: int | None = _UNKNOWN  # wal_first_seq(), once found (writable stores) ...
        self._wal_changes = 0  # ... kept only if no record was written or trimmed while it was looked up
        #: called with each new sequence after it is published (replication's live feed); empty: no cost
        self._commit_listeners: list[Callable[[int], None]] = []
        #: a replica's directory (``meta`` local key :data:`REPLICA_KEY`): commits are refused, records are
        #: applied with :meth:`apply_records`
        self.replica = self.get_local(wal.POSITION_CF, REPLICA_KEY) is not None
        if not self.read_only:
            self._write_holder()
        self.closed = False

    def use_codec(self, codec: ValueCodec) -> None:
        """Read and write values through ``codec`` from now on: chosen once at open, after reading what
        decides it (e.g. an encryption header) and before any other read or write."""
        self.codec = codec

    # -- opening -----------------------------------------------------------------------------------
    def _check_path(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise StorageError(f"{self.path} is a file, not a database directory")
        if self.read_only and not (self.path / "CURRENT").exists():
            raise NotFoundError(f"no database at {self.path} (run `rem init` first)")

    def _open(self, opts: Options, families: dict[str, Options]) -> Rdict:
        if self.secondary is not None:
            access = AccessType.secondary(str(self.secondary))
        else:
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

    def has_family(self, cf: str) -> bool:
        """Whether the column family exists (a read-only open of an older directory may lack new ones)."""
        return cf in self.cfs

    # -- reads -------------------------------------------------------------------------------------
    def get(self, cf: str, key: bytes) -> bytes | None:
        try:
            raw = self.cfs[cf].get(key)
        except StorageError:
            raise
        except Exception as exc:  # e.g. RocksDB's "Corruption: block checksum mismatch"
            raise _read_error(cf, [key], exc) from None
        if raw is None or cf not in self.codec.families:
            return raw
        return self.codec.decode(cf, key, raw)

    def multi_get(self, cf: str, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        family: Any = self.cfs[cf]
        try:
            raws: list[bytes | None] = family.get(keys)
        except StorageError:
            raise
        except Exception as exc:
            raise _read_error(cf, keys, exc) from None
        if cf not in self.codec.families:
            return raws
        decode = self.codec.decode
        return [None if r is None else decode(cf, k, r) for k, r in zip(keys, raws, strict=True)]

    def scan(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False,
             keys_only: bool = False) -> Iterator[tuple[bytes, bytes | None]]:
        """Yield ``(key, value)`` for ``lower <= key < upper`` in key order (or reverse)."""
        opts = bounded(upper)
        it = self.cfs[cf].iter(opts)
        decode = None if keys_only or cf not in self.codec.families else self.codec.decode
        # rocksdict mishandles iterate_lower_bound (seek_to_first ignores it, seek_for_prev skips keys),
        # so the lower end is enforced here.
        if reverse:
            it.seek_to_last()
            while it.valid():
                key = it.key()
                if key < lower:
                    return
                value = None if keys_only else it.value()
                yield key, (value if decode is None or value is None else decode(cf, key, value))
                it.prev()
        else:
            it.seek(lower)
            while it.valid():
                key = it.key()
                if key >= upper:
                    return
                value = None if keys_only else it.value()
                yield key, (value if decode is None or value is None else decode(cf, key, value))
                it.next()

    def items(self, cf: str, lower: bytes, upper: bytes, fill_cache: bool = True) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` for ``lower <= key < upper`` in key order, iterated in Rust (~3x faster than
        :meth:`scan`); ``fill_cache=False`` for bulk reads that should not evict the hot set."""
        opts = bounded(upper, fill_cache)  # must stay alive while the iterator runs: it holds the bound
        pairs: Iterator[tuple[bytes, bytes]] = self.cfs[cf].items(from_key=lower, read_opt=opts)  # type: ignore[assignment]
        if cf not in self.codec.families:
            yield from pairs
        else:
            decode = self.codec.decode
            for key, value in pairs:
                yield key, decode(cf, key, value)

    def values(self, cf: str, lower: bytes, upper: bytes, fill_cache: bool = True) -> Iterator[bytes]:
        """Values of the keys in ``[lower, upper)`` in key order, iterated in Rust (no key objects made)."""
        if cf in self.codec.families:
            yield from (value for _, value in self.items(cf, lower, upper, fill_cache))
            return
        opts = bounded(upper, fill_cache)  # must stay alive while the iterator runs: it holds the bound
        yield from self.cfs[cf].values(from_key=lower, read_opt=opts)

    def scan_keys(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False,
                  fill_cache: bool = True) -> Iterator[bytes]:
        """Keys with ``lower <= key < upper`` in key order (or reverse)."""
        if reverse:
            return (key for key, _ in self.scan(cf, lower, upper, reverse=True, keys_only=True))
        return self._forward_keys(cf, lower, upper, fill_cache)

    def _forward_keys(self, cf: str, lower: bytes, upper: bytes, fill_cache: bool) -> Iterator[bytes]:
        opts = bounded(upper, fill_cache)  # must stay alive while the iterator runs: it holds the bound
        yield from self.cfs[cf].keys(from_key=lower, read_opt=opts)  # iterated in Rust: ~3x faster

    def count(self, cf: str, lower: bytes, upper: bytes) -> int:
        opts = bounded(upper)
        return sum(1 for _ in self.cfs[cf].keys(from_key=lower, read_opt=opts))

    def last_key(self, cf: str) -> bytes | None:
        it = self.cfs[cf].iter()
        it.seek_to_last()
        return it.key() if it.valid() else None

    def estimate_keys(self, cf: str) -> int:
        """RocksDB's estimate of the keys in a column family (cheap; off by deletes not yet compacted)."""
        return int(self.cfs[cf].property_int_value("rocksdb.estimate-num-keys") or 0)

    def sequence(self) -> int:
        """RocksDB's own sequence number: it changes whenever anything is written (a cheap change check)."""
        if self.closed:
            raise StorageError(f"database {self.path} is closed")
        return int(self._db.latest_sequence_number())

    def catch_up(self) -> None:
        """A secondary instance: read what the writer has committed since the last call."""
        if self.secondary is None:
            raise StorageError(f"database {self.path} is not open as a secondary instance")
        self._db.try_catch_up_with_primary()
        with self._commit_lock:
            self._wal_seq = self._stored_position()

    # -- writes ------------------------------------------------------------------------------------
    def batch(self) -> Batch:
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        if self.replica:
            raise ReadOnlyError(replica_refusal(self.path))
        return Batch(self)

    def wal_seq(self) -> int:
        """The sequence number of the last commit (0: none yet). Every commit that writes anything takes the
        next number, with the WAL on or off; with it on, the commit's WAL record is stored under it."""
        return self._wal_seq

    def put_local(self, cf: str, key: bytes, value: bytes | None) -> None:
        """Write (``None``: delete) one key of this directory's own bookkeeping outside any commit: no
        sequence number, no WAL record (never replicated), not through the value codec. For state that
        describes local files, such as the vector index checksums."""
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        try:
            if value is None:
                self.cfs[cf].delete(key)
            else:
                self.cfs[cf].put(key, value)
        except Exception as exc:
            raise StorageError(f"write to {self.path} failed: {exc}") from None

    def get_local(self, cf: str, key: bytes) -> bytes | None:
        """Read a key written by :meth:`put_local` (as stored: not through the value codec)."""
        return self.cfs[cf].get(key) if cf in self.cfs else None

    def _stored_position(self) -> int:
        """The last committed sequence: the position key, or (a store written before it existed) the last
        record's key."""
        if wal.POSITION_CF in self.cfs:
            stored = self.cfs[wal.POSITION_CF].get(wal.POSITION_KEY)
            if stored is not None:
                return wal.seq_of(stored)
        last = self.last_key(wal.CF) if wal.CF in self.cfs else None
        return wal.seq_of(last) if last else 0

    def write(self, batch: Batch) -> int:
        """Commit a batch atomically with its WAL record; returns the record's sequence number.

        The write reaches the OS before this returns (survives kill -9); with ``P8_SYNC_WRITES=true`` it is
        also fsynced (survives power loss). Sequence numbers are gapless: one is taken under the commit lock
        and published only after the write succeeded and the batch's ``on_commit`` hooks ran (so a reader
        that sees a sequence also sees every in-memory change of the commits up to it).
        """
        if batch.before_write:
            for hook in batch.before_write:
                hook()
            batch.before_write = []
        with self._commit_lock:
            seq = self._wal_seq
            if batch.count:
                seq += 1
                batch.stage_record(seq, self.codec)
                try:
                    self._db.write(batch._batch, self._write_opts)
                except Exception as exc:
                    raise StorageError(f"write to {self.path} failed: {exc}") from None
                if batch._cfs is not None:
                    self._recorded(seq)
            for done in batch.on_commit:
                try:
                    done(seq)
                except Exception:  # a cache update must not turn a committed write into an error
                    log.exception("after-commit hook failed")
            self._wal_seq = seq
        for listener in self._commit_listeners:
            try:
                listener(seq)
            except Exception:  # a listener (a replication feed) must not turn a committed write into an error
                log.exception("commit listener failed")
        return seq

    def add_commit_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(seq)`` after every commit is published (from the committing thread: keep it short)."""
        self._commit_listeners = [*self._commit_listeners, listener]

    def remove_commit_listener(self, listener: Callable[[int], None]) -> None:
        self._commit_listeners = [fn for fn in self._commit_listeners if fn is not listener]

    def set_replica(self, info: bytes | None) -> None:
        """Make this directory a replica (``info``: what it follows, kept as a local key, never replicated)
        or, with ``None``, a writable primary again (promotion)."""
        self.put_local(wal.POSITION_CF, REPLICA_KEY, info)
        self.replica = info is not None

    def apply_records(self, records: list[tuple[int, bytes]]) -> list[tuple[int, list[wal.Op]]]:
        """A replica applies WAL records received from its primary: each record's operations exactly as
        stored (no codec: they are encoded already), the record itself under its sequence and the new
        position, all in ONE atomic write. Records at or below the position are skipped (idempotent);
        a gap is a :class:`StorageError` (nothing written). Returns ``(seq, operations)`` of those applied."""
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        handles = self.handles
        wal_handle, meta_handle = handles[wal.CF], handles[wal.POSITION_CF]
        with self._commit_lock:
            position = self._wal_seq
            applied: list[tuple[int, list[wal.Op]]] = []
            rocks = RocksBatch(raw_mode=True)
            for seq, record in records:
                if seq <= position:
                    continue
                if seq != position + 1:
                    raise StorageError(f"replication gap in {self.path}: expected record {position + 1}, "
                                       f"got {seq}")
                ops = wal.decode(record)
                for cf, key, value in ops:
                    if value is None:
                        rocks.delete(key, handles[cf])
                    else:
                        rocks.put(key, value, handles[cf])
                key = wal.seq_key(seq)
                rocks.put(key, record, wal_handle)
                applied.append((seq, ops))
                position = seq
            if not applied:
                return []
            rocks.put(wal.POSITION_KEY, wal.seq_key(position), meta_handle)
            try:
                self._db.write(rocks, self._write_opts)
            except Exception as exc:
                raise StorageError(f"write to {self.path} failed: {exc}") from None
            self._recorded(applied[0][0])
            self._wal_seq = position
        return applied

    def wal_records(self, from_seq: int) -> Iterator[tuple[int, list[wal.Op]]]:
        """``(sequence, operations)`` of the committed WAL records from ``from_seq`` on, in order."""
        raw = self.items(wal.CF, wal.seq_key(from_seq), b"\xff" * 9)
        return wal.records(raw)

    def wal_first_seq(self) -> int | None:
        """The sequence of the oldest WAL record still stored (None: no record, e.g. the WAL off or every
        record trimmed). Finding it reads that record (a bulk batch's is tens of MB), so a writable store
        remembers it: only its own commits, applied records and trims change it."""
        if wal.CF not in self.cfs:
            return None
        if self._wal_first != _UNKNOWN:
            return self._wal_first
        changes = self._wal_changes
        first = next(self.scan_keys(wal.CF, b"", b"\xff" * 9), None)
        found = wal.seq_of(first) if first is not None else None
        if not self.read_only:  # a read-only or secondary store sees another process trim
            with self._commit_lock:
                if self._wal_changes == changes:  # no record written or trimmed during the lookup
                    self._wal_first = found
        return found

    def _recorded(self, seq: int) -> None:
        """A WAL record was written under ``seq`` (caller holds the commit lock)."""
        self._wal_changes += 1
        if self._wal_first is None:
            self._wal_first = seq

    def wal_size_bytes(self) -> int:
        """Bytes the ``wal`` family takes: its SST files plus its memtables (the part not flushed yet,
        which is in RocksDB's own log on disk). Trimmed records count until :meth:`trim_wal`'s compaction."""
        if wal.CF not in self.cfs:
            return 0
        family = self.cfs[wal.CF]
        return sum(int(family.property_int_value(name) or 0)
                   for name in ("rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables"))

    def flush_family(self, cf: str) -> None:
        """Write one column family's memtables to SST files (nothing on a read-only store)."""
        if self.read_only or self.closed:
            return
        try:
            self.cfs[cf].flush()
        except Exception as exc:
            raise StorageError(f"cannot flush the {cf} family of {self.path}: {exc}") from None

    def trim_wal(self, upto_seq: int) -> int:
        """Delete the WAL records with sequence <= ``upto_seq`` (never past the last commit) with one range
        delete, then compact that range so the disk space is given back. Local: no commit, nothing
        replicated; the position key (``meta`` ``wal.position``) lives in another family and is never
        touched. Returns the first sequence still stored after the trim (``wal_seq() + 1`` when none is)."""
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        upto = min(upto_seq, self._wal_seq)
        if upto >= 1 and wal.CF in self.cfs:
            family = self.cfs[wal.CF]
            end = wal.seq_key(upto + 1)
            try:
                family.delete_range(wal.seq_key(0), end)
                family.compact_range(wal.seq_key(0), end)
            except Exception as exc:
                raise StorageError(f"cannot trim the WAL of {self.path}: {exc}") from None
            with self._commit_lock:
                self._wal_changes += 1
                self._wal_first = _UNKNOWN  # found again below
        first = self.wal_first_seq()
        return first if first is not None else self._wal_seq + 1

    def family_sizes(self) -> dict[str, dict[str, int]]:
        """Per column family, RocksDB's figures: ``sst_bytes`` (SST files on disk), ``memtable_bytes``
        (written, not flushed yet: in RocksDB's log), ``live_bytes`` (its estimate of the live data in SST
        files) and ``keys`` (its estimate of the number of keys)."""
        props = {"sst_bytes": "rocksdb.total-sst-files-size", "memtable_bytes": "rocksdb.cur-size-all-mem-tables",
                 "live_bytes": "rocksdb.estimate-live-data-size", "keys": "rocksdb.estimate-num-keys"}
        return {cf: {name: int(family.property_int_value(prop) or 0) for name, prop in props.items()}
                for cf, family in self.cfs.items()}

    def snapshot(self) -> StoreSnapshot:
        """A consistent read view of every column family as of now (taken under the commit lock, so no
        commit falls between the families' views). Release it with :meth:`StoreSnapshot.close`."""
        with self._commit_lock:
            return StoreSnapshot(self, {cf: family.snapshot() for cf, family in self.cfs.items()}, self._wal_seq)

    # -- whole-store operations --------------------------------------------------------------------
    def checkpoint(self, dest: str | os.PathLike[str]) -> None:
        """A consistent copy of the whole database in ``dest`` (which must not exist), hard-linking files
        where it can: the base of backups and replica snapshots. A read-only (or secondary) store copies
        every column family as it sees them instead (slower, no links)."""
        target = Path(dest).expanduser().resolve()
        if target.exists():
            raise StorageError(f"checkpoint target {target} already exists")
        if self.read_only:
            # RocksDB's checkpoint of a read-only (or secondary) instance leaves out what it holds in
            # memtables (a writer's unflushed commits): copy what this instance sees instead
            self._copy_families(target)
            return
        self.flush()
        try:
            Checkpoint(self._db).create_checkpoint(str(target))
        except Exception as exc:
            raise StorageError(f"cannot create a checkpoint in {target}: {exc}") from None

    def _copy_families(self, target: Path, batch_bytes: int = 8 << 20) -> None:
        """A copy of every column family, as stored (no codec, no WAL record), read from this instance's
        view: a read-only instance sees the database as of its open, so the copy is consistent."""
        cache = Cache(BLOCK_CACHE_BYTES)
        families = {name: db_options(self.settings, cache) for name in self.cfs if name != "default"}
        write_opts = WriteOptions()
        write_opts.disable_wal = True  # type: ignore[method-assign,assignment]  # a property (the stub is wrong)
        try:
            copy = Rdict(str(target), db_options(self.settings, cache), column_families=families)
            try:
                read_opts = ReadOptions()
                read_opts.fill_cache(False)  # type: ignore[call-arg]  # rocksdict's stub lacks the flag
                for name, family in [("default", self._db), *self.cfs.items()]:
                    handle = copy.get_column_family_handle(name)
                    batch, size = RocksBatch(raw_mode=True), 0
                    pairs: Iterator[tuple[bytes, bytes]] = family.items(read_opt=read_opts)  # type: ignore[assignment]
                    for key, value in pairs:
                        batch.put(key, value, handle)
                        size += len(key) + len(value)
                        if size >= batch_bytes:
                            copy.write(batch, write_opts)
                            batch, size = RocksBatch(raw_mode=True), 0
                    if size:
                        copy.write(batch, write_opts)
                copy.flush()
                for name in families:
                    copy.get_column_family(name).flush()
            finally:
                copy.close()
        except Exception as exc:
            raise StorageError(f"cannot copy database {self.path} to {target}: {exc}") from None

    def flush(self) -> None:
        """Write the memtables to SST files (nothing on a read-only or closed store); :class:`StorageError`
        if RocksDB cannot."""
        if self.read_only or self.closed:
            return
        try:
            self._db.flush()
        except Exception as exc:  # rocksdict raises plain Exception with RocksDB's status text
            raise StorageError(f"cannot flush database {self.path}: {exc}") from None

    def close(self) -> None:
        """Close RocksDB and release the directory (HOLDER file, RocksDB LOCK); a second call does nothing.

        The store counts as closed even if RocksDB reports an error while closing (raised as
        :class:`StorageError`)."""
        if self.closed:
            return
        self.closed = True
        self.cfs = _Closed(self.path)
        self.handles = _Closed(self.path)
        if not self.read_only:
            with contextlib.suppress(OSError):
                (self.path / HOLDER_FILE).unlink()
        try:
            self._db.close()
        except Exception as exc:
            raise StorageError(f"cannot close database {self.path}: {exc}") from None
