"""The ANN indexes of one tenant (HNSW by default: index/ann.py): loading in the background, catching up,
saving after writes.

The indexes are a cache of the ``embeddings`` column family. On open each one is loaded by the background
worker (so ``Database()`` returns at once; a search waits for its index). Its files are checked against
their manifest (blake3 digests, :mod:`.manifest`) before the ANN library reads them; a stale set (saved at
commit sequence ``s``) is caught up by replaying the WAL records after ``s``. A missing, corrupt or
unrecoverably stale set (the WAL off, or trimmed) is rebuilt from the column family in the background: until
the rebuild is done, searches are answered exactly by an :class:`~.exact.ExactIndex` over the stored
vectors. Writes hand their changes over after commit (the pending tail, :mod:`.tail`); the worker applies
them in chunks and then saves the index (never on the write path). A search applies a small tail itself and
searches a large one exactly, merged with the graph's results, so it never waits for the graph to catch up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

import numpy as np

from ..errors import StorageError
from ..schema.model import HnswSettings
from ..worker import BackgroundWorker
from .ann import AnnBackend, AnnIndex, CorruptIndex, ann_backend
from .exact import ExactIndex
from .manifest import ManifestMismatch, Manifests
from .tail import PendingTail, TailView
from .vector_store import CF as VECTORS_CF
from .vector_store import VectorStore

log = logging.getLogger("rem_db.index")
T = TypeVar("T")
#: a search applies a pending tail this small to the graph itself; a larger one it searches exactly
APPLY_IN_SEARCH = 256
#: ids the worker moves from the tail into the graph per hold of the handle's lock while searches come in: a
#: search waits for one chunk at most (16 adds at ef_construction 200 take ~8 ms on 2 cores; an update
#: several times an add) ...
APPLY_CHUNK = 16
#: ... and while none came for a second (small chunks cost the build ~1.5x: each hnswlib call waits for its
#: slowest add; 128 adds take ~60 ms, what the first search after a quiet spell may wait)
APPLY_CHUNK_QUIET = 128
#: while writes keep coming, the worker saves an index file at most this often (seconds): a save holds the
#: index for a whole file write, and the WAL replays whatever a crash loses since the last one
SAVE_EVERY = 30.0
#: a write this recent (seconds) means more may follow: the worker builds the graph on one core meanwhile
WRITING = 1.0
#: the worker saves an index once no write came for this long (seconds; ``wait_idle`` and closing save at once)
SAVE_QUIET = 1.0
#: while the saved files answer (exactly) after an open, the index is loaded once no search started for this
#: long (seconds), or after LOAD_PATIENCE at the latest
LOAD_QUIET = 0.05
LOAD_PATIENCE = 0.25


class IndexHandle:
    """One (table, provider) index with its pending changes; ``ready`` is set once it is loaded."""

    def __init__(self, table: str, spec: str, dimensions: int, base: Path) -> None:
        self.table, self.spec, self.dimensions, self.base = table, spec, dimensions, base
        self.index: AnnIndex | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        # committed changes not in the graph yet, searched exactly meanwhile (index/tail.py); own lock, so a
        # write never waits for a search or a save holding ``lock`` (order: ``lock`` then ``tail_lock``)
        self.pending = PendingTail(dimensions)
        self.pending.graph_has = lambda id16: self.index is not None and self.index.label_of(id16) is not None
        self.tail_lock = threading.Lock()
        self.searching: list[None] = []  # one item per search waiting for ``lock`` (list ops are atomic):
        # the worker lets them in between its chunks
        self.saved_at = time.monotonic()
        self.written_at = 0.0  # when a write last handed changes over
        self.searched_at = 0.0  # when a search last asked for the index
        # the commits the index held when it was loaded (its files, their catch-up, or the stored vectors an
        # exact stand-in read): tail entries up to here are in it already and are not applied twice
        self.covered = 0
        self.dirty = False
        self.save_queued = False
        self.save_timer: threading.Timer | None = None  # a save queued for when writes pause
        self.dropped = False  # set by drop(): a save still queued must not write the files again
        # while a rebuild runs: the changes applied to the interim exact index, replayed onto the new index
        self.replay: list[tuple[list[bytes], np.ndarray | None]] | None = None
        # while the saved files answer (exactly, mapped) and the index itself loads: nothing is saved
        self.staged = False


@runtime_checkable
class _Threaded(Protocol):
    """An ANN index whose adds can be limited to fewer cores (hnsw)."""

    def set_threads(self, threads: int) -> None: ...


@runtime_checkable
class _Configurable(Protocol):
    """An ANN index with graph parameters (hnsw): set while it is empty."""

    def configure(self, m: int, ef_construction: int) -> None: ...


class VectorIndexes:
    """Owns every :class:`IndexHandle` of a database handle's tenant.

    ``params_of(table)`` gives a table's index parameters (its schema setting ``hnsw``): ``m`` and
    ``ef_construction`` are used when an index is built, ``ef_search`` is the breadth of its searches."""

    def __init__(self, root: Path, tenant: str, vectors: VectorStore, worker: BackgroundWorker,
                 read_only: bool, backend: AnnBackend | None = None) -> None:
        self._backend = backend
        self.root = root / "indexes" / quote(tenant, safe="")
        self.tenant = tenant
        self.vectors = vectors
        self.store = vectors.store
        self.worker = worker
        self.read_only = read_only
        self.handles: dict[tuple[str, str], IndexHandle] = {}
        self.manifests = Manifests(self.store, tenant)
        self._lock = threading.Lock()
        self._cancel = threading.Event()  # set by cancel_rebuilds(): closing stops a rebuild midway
        self._closing = threading.Event()  # set by cancel_rebuilds(): an unchanged stand-in is not swapped out
        self.params_of: Callable[[str], HnswSettings] = lambda table: HnswSettings()

    @property
    def backend(self) -> AnnBackend:
        """The ANN backend, looked up on first use (by the worker's load, so opening stays cheap)."""
        if self._backend is None:
            self._backend = ann_backend()
        return self._backend

    def base(self, table: str, spec: str) -> Path:
        return self.root / f"{quote(table, safe='')}__{quote(spec, safe='')}"

    def handle(self, table: str, spec: str, dimensions: int) -> IndexHandle:
        """The handle for (table, provider), scheduling its load on first use."""
        with self._lock:
            handle = self.handles.get((table, spec))
            if handle is None:
                handle = IndexHandle(table, spec, dimensions, self.base(table, spec))
                self.handles[(table, spec)] = handle
                try:
                    self.worker.submit(self._load, handle)
                except RuntimeError:  # the worker is shut down (closing): load here instead
                    self._load(handle)
            return handle

    # -- loading -----------------------------------------------------------------------------------------
    def _load(self, handle: IndexHandle) -> None:
        """Open the saved files as an exact stand-in when the backend can (answering at once), else load
        the index; a stand-in is replaced by the loaded index in a later worker task (:meth:`_swap_in`)."""
        rebuild = False
        try:
            with handle.lock:
                loaded = self._open_view(handle)
                handle.staged = loaded is not None
                if loaded is None:
                    loaded = self._open(handle)
                if loaded is None:  # answer exactly from the stored vectors until the rebuild is done
                    loaded = self._exact(handle)
                    handle.replay = []
                    rebuild = True
                self._install(handle, loaded)
        except BaseException as exc:
            handle.error = exc
            raise
        finally:
            handle.ready.set()
        if handle.staged:
            try:
                self.worker.submit(self._swap_in, handle)
            except RuntimeError:  # the worker is shut down (closing): load here instead
                self._swap_in(handle)
        if rebuild:
            self._rebuild(handle)

    @staticmethod
    def _install(handle: IndexHandle, index: AnnIndex) -> None:
        """Make ``index`` the handle's (caller holds its lock): pending changes it holds are not applied again."""
        handle.index = index
        handle.covered = index.seq
        with handle.tail_lock:
            handle.pending.resuspect()

    def _open_view(self, handle: IndexHandle) -> AnnIndex | None:
        """The saved files as the backend's exact stand-in (sizes checked against the manifest, caught up),
        or None: no such backend, no files, or a problem :meth:`_open` will find and report."""
        view = self.backend.view
        if view is None or not self.backend.exists(handle.base):
            return None
        seq_now = self.store.wal_seq()
        try:  # checksums too: a damaged file must never answer (the load that follows checks sizes only)
            covered = self.manifests.verify(handle.base, self.backend.paths(handle.base))
            index = view(handle.base, handle.dimensions)
        except (ManifestMismatch, CorruptIndex):
            return None
        if index.seq != covered or not self._catch_up(handle, index, seq_now):
            return None
        return index

    def _swap_in(self, handle: IndexHandle) -> None:
        """Load the index (checksums verified) while its stand-in answers, then catch it up from the WAL and
        swap it in under the lock; an unusable file set is rebuilt from the stored vectors instead."""
        if self._closing.is_set() and (self.read_only or not handle.dirty):
            return  # nothing to save: the files stay as they are
        began = time.monotonic()  # about when the stand-in began answering: its first search may be starting
        index = self._verified(handle, checksums=False, before_load=lambda: self._between_searches(handle, began))
        rebuild = False
        with handle.lock:
            if handle.dropped or not handle.staged:
                return
            handle.staged = False
            if index is not None and not self._caught_up(handle, index, self.store.wal_seq()):
                index = None
            if index is None:
                index = self._exact(handle)
                handle.replay = []
                rebuild = True
            self._install(handle, index)
        if rebuild:
            self._rebuild(handle)
        elif handle.dirty:
            self._schedule_save(handle)

    def _open(self, handle: IndexHandle) -> AnnIndex | None:
        """The saved index, verified and caught up; None when it must be rebuilt."""
        seq_now = self.store.wal_seq()
        if not self.backend.exists(handle.base):
            return None
        index = self._verified(handle)
        return index if index is not None and self._caught_up(handle, index, seq_now) else None

    def _between_searches(self, handle: IndexHandle, began: float) -> None:
        """Wait (at most LOAD_PATIENCE seconds) until no search started for LOAD_QUIET seconds (nor the stand-in
        began answering): hnswlib holds the GIL while it reads an index file, so a search running meanwhile
        would wait for the whole load."""
        deadline = time.monotonic() + LOAD_PATIENCE
        while time.monotonic() - max(handle.searched_at, began) < LOAD_QUIET and time.monotonic() < deadline:
            if self._closing.wait(min(LOAD_QUIET / 4, 0.05)):
                return

    def _verified(self, handle: IndexHandle, checksums: bool = True,
                  before_load: Callable[[], None] | None = None) -> AnnIndex | None:
        """The saved index loaded after its files matched their manifest (``checksums``: their digests too,
        not only their sizes), or None (logged); ``before_load`` is called between the two."""
        try:
            covered = self.manifests.verify(handle.base, self.backend.paths(handle.base), checksums)
            if before_load is not None:
                before_load()
            index = self.backend.load(handle.base, handle.dimensions)
            if index.seq != covered:
                raise CorruptIndex(f"{handle.base.name}: the files cover sequence {index.seq}, "
                                   f"their manifest {covered}")
            index.set_ef(self._params(handle).ef_search)
        except (ManifestMismatch, CorruptIndex) as exc:
            log.warning("vector index of table %r (%s) unusable (%s); rebuilding from the stored vectors, "
                        "searches are exact meanwhile", handle.table, handle.spec, exc)
            return None
        return index

    def _caught_up(self, handle: IndexHandle, index: AnnIndex, seq_now: int) -> bool:
        """:meth:`_catch_up`, logging when the WAL cannot (the caller rebuilds)."""
        if self._catch_up(handle, index, seq_now):
            return True
        log.warning("vector index of table %r (%s) covers commit %d of %d and the WAL %s; rebuilding from the "
                    "stored vectors, searches are exact meanwhile", handle.table, handle.spec, index.seq, seq_now,
                    "is off" if not self.store.wal_enabled else "no longer holds the commits in between")
        return False

    def _exact(self, handle: IndexHandle) -> ExactIndex:
        seq = self.store.wal_seq()
        exact = ExactIndex(handle.dimensions, self.vectors.count(handle.table, handle.spec))
        for ids, matrix in self.vectors.scan(handle.table, handle.spec):
            exact.upsert(ids, matrix)
        exact.seq = seq
        return exact

    def _rebuild(self, handle: IndexHandle, chunk: int = 4096) -> None:
        """Build the ANN index from the interim exact one (in the worker, without holding the handle's lock:
        searches go on), then replay what changed meanwhile and swap it in."""
        with handle.lock:
            exact = handle.index
            assert isinstance(exact, ExactIndex)
            ids, matrix = exact.live()
            seq = exact.seq
            handle.replay = []
        index = self._create(handle, max(1024, len(ids)))
        for start in range(0, len(ids), chunk):
            if self._cancel.is_set() or handle.dropped:
                log.info("rebuild of the vector index of table %r stopped (closing)", handle.table)
                return  # the exact index stays; nothing is saved, the next open rebuilds again
            index.upsert(ids[start:start + chunk], matrix[start:start + chunk])
        with handle.lock:
            for changed, vectors in handle.replay or []:
                if vectors is None:
                    index.remove(changed)
                else:
                    index.upsert(changed, vectors)
            index.seq = max(seq, handle.index.seq if handle.index is not None else seq)
            index.set_ef(self._params(handle).ef_search)  # the setting may have changed meanwhile
            handle.index = index
            with handle.tail_lock:
                handle.pending.resuspect()
            handle.replay = None
            handle.dirty = True
        log.info("vector index of table %r (%s) rebuilt: %d vectors", handle.table, handle.spec, len(index))
        self._schedule_save(handle)

    def _params(self, handle: IndexHandle) -> HnswSettings:
        try:
            return self.params_of(handle.table)
        except Exception:  # a table removed meanwhile: its index is about to be dropped
            return HnswSettings()

    def _create(self, handle: IndexHandle, capacity: int) -> AnnIndex:
        """An empty index with the table's parameters."""
        params = self._params(handle)
        index = self.backend.create(handle.dimensions, capacity)
        if isinstance(index, _Configurable):
            index.configure(params.m, params.ef_construction)
        index.set_ef(params.ef_search)
        return index

    def retune(self, table: str, spec: str, dimensions: int, rebuild: bool) -> None:
        """A table's ``hnsw`` setting changed: with ``rebuild`` (``m`` or ``ef_construction`` changed) its
        index is dropped and rebuilt from the stored vectors in the background (searches are exact
        meanwhile); otherwise the loaded index takes the new ``ef_search``."""
        if rebuild:
            self.drop(table, spec)
            self.handle(table, spec, dimensions)
            return
        handle = self.handle(table, spec, dimensions)
        handle.ready.wait()
        with handle.lock:
            if handle.index is not None:
                handle.index.set_ef(self._params(handle).ef_search)

    def cancel_rebuilds(self) -> None:
        """Closing: a read-only handle stops its rebuilds (it could not save them; the next open rebuilds
        again). A writable one lets them finish, so that they are saved and the next open is fast. An index
        still answered by its saved files is loaded only to save changes made since (the next open would
        replay them from the WAL)."""
        self._closing.set()
        if self.read_only:
            self._cancel.set()

    def _catch_up(self, handle: IndexHandle, index: AnnIndex, seq_now: int) -> bool:
        """Replay the WAL records after the index's sequence (the vectors they put or delete for this
        table and provider); False if they are not all retained."""
        if index.seq >= seq_now:
            return True
        if not self.store.wal_enabled:
            return False
        touched: set[bytes] = set()
        expected = index.seq + 1
        last = index.seq
        prefix = self.vectors.prefix(handle.table, handle.spec)
        for seq, ops in self.store.wal_records(index.seq + 1):
            if seq != expected:
                return False
            expected += 1
            last = seq
            for cf, key, _ in ops:
                if cf == VECTORS_CF and key.startswith(prefix):
                    touched.add(key[-16:])
        if last < seq_now:  # records up to seq_now were trimmed (retention) or never written (WAL off)
            return False
        ids = list(touched)
        found = self.vectors.get_many(handle.table, handle.spec, ids)
        present = [(i, v) for i, v in zip(ids, found, strict=True) if v is not None]
        index.remove([i for i, v in zip(ids, found, strict=True) if v is None])
        if present:
            index.upsert([i for i, _ in present], np.vstack([v for _, v in present]))
        index.seq = max(index.seq, last)
        handle.dirty = bool(touched)
        if touched:
            self._schedule_save(handle)
        return True

    # -- changes from writes -------------------------------------------------------------------------------
    def changed(self, table: str, spec: str, dimensions: int, seq: int, ids: list[bytes],
                vectors: np.ndarray | None) -> None:
        """Record committed changes (``vectors=None`` removes ``ids``); applied lazily."""
        handle = self.handle(table, spec, dimensions)
        with handle.tail_lock:
            handle.pending.add(seq, ids, vectors)
        handle.written_at = time.monotonic()
        self._schedule_save(handle)

    def _apply_pending(self, handle: IndexHandle, index: AnnIndex, limit: int | None = None,
                       upto: int | None = None) -> bool:
        """Apply queued changes to ``index`` (the loaded ``handle.index``), all of them or about ``limit``
        ids, only those of commits ``<= upto`` when given; caller holds ``handle.lock``. Returns whether
        some (of commits ``<= upto``) are left."""
        with handle.tail_lock:
            taken = handle.pending.take(limit if limit is not None else handle.pending.rows, upto)
        # (every search calls this; most take nothing: no per-call Protocol check then)
        if taken and isinstance(index, _Threaded):  # a writer still loading rows keeps a core for itself
            index.set_threads(1 if time.monotonic() - handle.written_at < WRITING else -1)
        for piece in taken:
            if piece.seq <= handle.covered:  # already in the index (read from the stored vectors at load)
                continue
            if piece.vectors is None:
                index.remove(piece.ids)
            else:
                index.upsert(piece.ids, piece.vectors)
            if handle.replay is not None:
                handle.replay.append((piece.ids, piece.vectors))
            if piece.last:
                index.seq = max(index.seq, piece.seq)
            handle.dirty = True
        with handle.tail_lock:
            handle.pending.settle(taken)
            entries = handle.pending.entries
            return bool(entries) and (upto is None or entries[0][0] <= upto)

    def search(self, table: str, spec: str, dimensions: int, run: Callable[[AnnIndex], T]) -> T:
        """``run(index)`` with the table's index (the graph, plus its pending tail while it catches up)."""
        handle = self.handle(table, spec, dimensions)
        handle.ready.wait()
        if handle.error is not None:
            raise handle.error
        handle.searching.append(None)
        handle.searched_at = time.monotonic()
        try:
            handle.lock.acquire()
        finally:
            handle.searching.pop()
        try:
            index = handle.index
            assert index is not None  # ready is set without an error, so _load assigned the index
            with handle.tail_lock:
                small = handle.pending.rows <= APPLY_IN_SEARCH
                if not small:  # the worker moves the tail into the graph; answer exactly over it meanwhile
                    return run(TailView(index, handle.pending))
            self._apply_pending(handle, index)
            return run(index)
        finally:
            handle.lock.release()

    # -- saving --------------------------------------------------------------------------------------------
    def _schedule_save(self, handle: IndexHandle, final: bool = False) -> None:
        if self.read_only or (handle.save_queued and not final):
            return
        handle.save_queued = True
        try:
            self.worker.submit(self._save, handle, final)
        except RuntimeError:  # worker shut down: close() saves
            handle.save_queued = False

    def _save_later(self, handle: IndexHandle) -> None:
        """Queue a save in SAVE_QUIET seconds (one timer per handle at a time)."""
        if handle.save_timer is None or not handle.save_timer.is_alive():
            handle.save_timer = threading.Timer(SAVE_QUIET, self._schedule_save, (handle,))
            handle.save_timer.daemon = True
            handle.save_timer.start()

    def _save(self, handle: IndexHandle, final: bool = False) -> None:
        """Move the pending changes committed so far into the graph, then write the index files (unless
        writes keep coming and the last save is recent; ``final``: always, as :meth:`save_all` asks)."""
        handle.ready.wait()
        handle.save_queued = False
        # every write up to this sequence has queued its changes already (they are queued before the
        # commit position advances), so after applying them the saved file reflects it
        seq = self.store.wal_seq()
        more = True
        # in chunks, releasing the lock between them: searches go on (over the tail). Only up to ``seq``:
        # a writer that queues as fast as chunks are applied would otherwise keep this loop going forever
        while more:
            with handle.lock:
                index = handle.index
                if index is None or handle.dropped or handle.replay is not None or handle.staged:  # a stand-in
                    return
                chunk = APPLY_CHUNK if time.monotonic() - handle.searched_at < 1.0 else APPLY_CHUNK_QUIET
                more = self._apply_pending(handle, index, chunk, upto=seq)
            _let_searches_in(handle)
        with handle.lock:
            index = handle.index
            if index is None or handle.dropped or handle.replay is not None or handle.staged:
                return
            if not handle.dirty and index.seq >= seq:
                return
            if not final and time.monotonic() - handle.saved_at < SAVE_EVERY:
                if handle.pending.rows:
                    self._schedule_save(handle)  # writes are still coming: save when they pause
                    return
                if time.monotonic() - handle.written_at < SAVE_QUIET:
                    self._save_later(handle)  # single writes: one save once they pause, not one after each
                    return
            index.seq = max(index.seq, seq)
            try:
                index.save(handle.base)
                self.manifests.write(handle.base, self.backend.paths(handle.base), index.seq)
            except (OSError, RuntimeError) as exc:  # OSError from the files, RuntimeError from hnswlib
                raise StorageError(f"cannot save the vector index of table {handle.table!r} ({handle.spec}) "
                                   f"to {handle.base.parent}: {exc}; the next open rebuilds or catches it "
                                   f"up from the stored vectors") from exc
            handle.dirty = False
            handle.saved_at = time.monotonic()

    def save_deferred(self) -> None:
        """Queue now the saves deferred until writes pause (so a caller that waits for the worker next finds
        every index saved)."""
        for handle in list(self.handles.values()):
            timer = handle.save_timer
            if timer is not None and timer.is_alive():
                timer.cancel()
                self._schedule_save(handle, final=True)

    def save_all(self) -> None:
        """Save every loaded index that changed since its last save.

        Every index is attempted even when one fails; then the first failure is raised as a
        :class:`~rem_db.StorageError` naming its directory and the OS reason (what was not saved is rebuilt
        or caught up from the WAL on the next open)."""
        failures: list[StorageError] = []
        for handle in list(self.handles.values()):
            if handle.save_timer is not None:
                handle.save_timer.cancel()
            if handle.ready.is_set() and not self.read_only:
                try:
                    self._save(handle, final=True)
                except StorageError as exc:
                    failures.append(exc)
        if failures:
            if len(failures) > 1:
                raise StorageError(f"{failures[0]} (and {len(failures) - 1} more vector index(es) "
                                   f"not saved)") from failures[0]
            raise failures[0]

    def drop(self, table: str, spec: str) -> None:
        """Forget an index and delete its files (after its vectors were deleted or re-embedded)."""
        with self._lock:
            handle = self.handles.pop((table, spec), None)
        if handle is not None:
            handle.ready.wait()
            with handle.lock:
                handle.dropped = True
        base = self.base(table, spec)
        self.manifests.delete(base)
        self.backend.delete(base)


def _let_searches_in(handle: IndexHandle, patience: float = 0.005) -> None:
    """Between two chunks of the worker: yield the handle's lock to the searches waiting for it (a lock is
    not fair: the worker would otherwise take it again at once), for ``patience`` seconds at most."""
    deadline = time.monotonic() + patience
    while handle.searching and time.monotonic() < deadline:
        time.sleep(0.0002)
