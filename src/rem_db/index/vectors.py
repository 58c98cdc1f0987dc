"""The ANN indexes of one tenant (HNSW by default: index/ann.py): searching, taking writes, saving; loading,
catching up and rebuilding are in :mod:`.loading`.

The indexes are a cache of the ``embeddings`` column family. Writes hand their changes over after commit (the
pending tail, :mod:`.tail`); the worker applies them in chunks and then saves the index (never on the write
path). A search applies a small tail itself and searches a large one exactly, merged with the graph's
results, so it never waits for the graph to catch up.
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
from .ann import AnnBackend, AnnIndex
from .handle import IndexHandle
from .loading import IndexLoading
from .manifest import Manifests, prefetch
from .tail import TailView
from .vector_store import VectorStore

log = logging.getLogger("rem_db.index")
T = TypeVar("T")
#: a search applies a pending tail this small to the graph itself (at most one worker chunk: ~8 ms of adds);
#: a larger one it searches exactly
APPLY_IN_SEARCH = 16
#: while single writes come less than WRITE_GAP seconds apart, the worker leaves a tail of fewer than
#: DEFER_ROWS rows for later: moving each row into the graph as it comes (~1 ms of hnswlib per add) competes
#: with the writes for the cores (an insert took ~1.3x as long); searches meanwhile scan the tail exactly
WRITE_GAP = 0.05
DEFER_ROWS = 4096
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


@runtime_checkable
class _Threaded(Protocol):
    """An ANN index whose adds can be limited to fewer cores (hnsw)."""

    def set_threads(self, threads: int) -> None: ...


def index_directory(root: Path, tenant: str) -> Path:
    """Where a database at ``root`` keeps a tenant's index files."""
    return root / "indexes" / quote(tenant, safe="")


def check_ahead(root: Path, tenant: str) -> None:
    """Start hashing the tenant's saved index files in the background (:func:`.manifest.prefetch`), so their
    check is done, or under way, by the time the worker loads them."""
    prefetch(index_directory(root, tenant))


class VectorIndexes(IndexLoading):
    """Owns every :class:`IndexHandle` of a database handle's tenant.

    ``params_of(table)`` gives a table's index parameters (its schema setting ``hnsw``): ``m`` and
    ``ef_construction`` are used when an index is built, ``ef_search`` is the breadth of its searches."""

    def __init__(self, root: Path, tenant: str, vectors: VectorStore, worker: BackgroundWorker,
                 read_only: bool, backend: AnnBackend | None = None) -> None:
        self._backend = backend
        self.root = index_directory(root, tenant)
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

    # -- changes from writes -------------------------------------------------------------------------------
    def changed(self, table: str, spec: str, dimensions: int, seq: int, ids: list[bytes],
                vectors: np.ndarray | None) -> None:
        """Record committed changes (``vectors=None`` removes ``ids``); applied lazily."""
        handle = self.handle(table, spec, dimensions)
        with handle.tail_lock:
            handle.pending.add(seq, ids, vectors)
        handle.written_at = time.monotonic()
        if not handle.catch_up_due or handle.pending.rows >= DEFER_ROWS:
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

    def _burst(self, handle: IndexHandle) -> bool:
        """Whether single writes are still coming with a short tail: then the catch-up is queued for when
        they pause (re-checked every WRITE_GAP seconds) and this save does nothing now."""
        if handle.pending.rows >= DEFER_ROWS or time.monotonic() - handle.written_at >= WRITE_GAP:
            return False
        if not handle.catch_up_due:
            handle.catch_up_due = True
            handle.catch_up_timer = _daemon_timer(WRITE_GAP, self._catch_up_now, handle)
        return True

    def _catch_up_now(self, handle: IndexHandle) -> None:
        handle.catch_up_due = False  # before queueing: a write from now on queues its own save
        self._schedule_save(handle)

    def _save_later(self, handle: IndexHandle) -> None:
        """Queue a save in SAVE_QUIET seconds (one timer per handle at a time)."""
        if handle.save_timer is None or not handle.save_timer.is_alive():
            handle.save_timer = _daemon_timer(SAVE_QUIET, self._schedule_save, handle)

    def _save(self, handle: IndexHandle, final: bool = False) -> None:
        """Move the pending changes committed so far into the graph, then write the index files (unless
        writes keep coming and the last save is recent; ``final``: always, as :meth:`save_all` asks)."""
        handle.ready.wait()
        handle.save_queued = False
        if not final and self._burst(handle):
            return
        # every write up to this sequence has queued its changes already (they are queued before the
        # commit position advances), so after applying them the saved file reflects it
        seq = self.store.wal_seq()
        more = True
        # in chunks, releasing the lock between them: searches go on (over the tail). Only up to ``seq``:
        # a writer that queues as fast as chunks are applied would otherwise keep this loop going forever
        while more:
            with handle.lock:
                index = handle.index
                if index is None or handle.dropped or handle.standing_in:
                    return
                chunk = APPLY_CHUNK if time.monotonic() - handle.searched_at < 1.0 else APPLY_CHUNK_QUIET
                more = self._apply_pending(handle, index, chunk, upto=seq)
            _let_searches_in(handle)
        with handle.lock:
            index = handle.index
            if index is None or handle.dropped or handle.standing_in:
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
            if _cancel_timers(handle):
                self._schedule_save(handle, final=True)

    def save_all(self) -> None:
        """Save every loaded index that changed since its last save.

        Every index is attempted even when one fails; then the first failure is raised as a
        :class:`~rem_db.StorageError` naming its directory and the OS reason (what was not saved is rebuilt
        or caught up from the WAL on the next open)."""
        failures: list[StorageError] = []
        for handle in list(self.handles.values()):
            _cancel_timers(handle)
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


def _daemon_timer(delay: float, call: Callable[[IndexHandle], None], handle: IndexHandle) -> threading.Timer:
    """``call(handle)`` in ``delay`` seconds on a daemon thread (started; cancel it to drop the call)."""
    timer = threading.Timer(delay, call, (handle,))
    timer.daemon = True
    timer.start()
    return timer


def _cancel_timers(handle: IndexHandle) -> bool:
    """Cancel the handle's deferred save and catch-up; whether one was still to come."""
    pending = False
    for timer in (handle.save_timer, handle.catch_up_timer):
        if timer is not None and timer.is_alive():
            timer.cancel()
            pending = True
    handle.catch_up_due = False
    return pending


def _let_searches_in(handle: IndexHandle, patience: float = 0.005) -> None:
    """Between two chunks of the worker: yield the handle's lock to the searches waiting for it (a lock is
    not fair: the worker would otherwise take it again at once), for ``patience`` seconds at most."""
    deadline = time.monotonic() + patience
    while handle.searching and time.monotonic() < deadline:
        time.sleep(0.0002)
