"""Loading a tenant's vector indexes (the loading half of :class:`~.vectors.VectorIndexes`).

Each index is loaded by the background worker (so ``Database()`` returns at once). Its files are checked
against their manifest (sizes and digests, :mod:`.manifest`) before anything reads them. A backend with
a ``view`` (HNSW: :mod:`.hnsw_file`) then answers the table's searches at once from the mapped files,
while the worker loads the index itself, catches it up and swaps it in (:meth:`IndexLoading._swap_in`). A
stale set (saved at commit sequence ``s``) is caught up by replaying the WAL records after ``s``. A missing,
corrupt or unrecoverably stale set (the WAL off, or trimmed) is rebuilt from the stored vectors in the
background: until the rebuild is done, searches are answered exactly by an :class:`~.exact.ExactIndex`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..schema.model import HnswSettings
from ..storage.store import Store
from ..worker import BackgroundWorker
from .ann import AnnBackend, AnnIndex, CorruptIndex, ReadsStored, StoredReader, StoredVectors, ann_backend
from .exact import ExactIndex
from .handle import IndexHandle
from .manifest import ManifestMismatch, Manifests
from .tail import Overlaid
from .vector_store import CF as VECTORS_CF
from .vector_store import VectorStore

log = logging.getLogger("rem_db.index")
#: while the saved files answer (exactly) after an open, the index is loaded once no search started for this
#: long (seconds), or after LOAD_PATIENCE at the latest
LOAD_QUIET = 0.05
LOAD_PATIENCE = 0.25


@runtime_checkable
class _Configurable(Protocol):
    """An ANN index with graph parameters (hnsw): set while it is empty."""

    def configure(self, m: int, ef_construction: int) -> None: ...


class IndexLoading:
    """Loads, catches up and rebuilds the indexes of :class:`~.vectors.VectorIndexes` (which sets these)."""

    _backend: AnnBackend | None
    store: Store
    vectors: VectorStore
    worker: BackgroundWorker
    manifests: Manifests
    read_only: bool
    params_of: Callable[[str], HnswSettings]
    _cancel: threading.Event
    _closing: threading.Event

    if TYPE_CHECKING:
        def _schedule_save(self, handle: IndexHandle, final: bool = False) -> None: ...

    @property
    def backend(self) -> AnnBackend:
        """The ANN backend, looked up on first use (by the worker's load, so opening stays cheap)."""
        if self._backend is None:
            self._backend = ann_backend()
        return self._backend

    def _load(self, handle: IndexHandle) -> None:
        """Open the saved files as a stand-in when the backend can (answering at once), else load
        the index; a stand-in is replaced by the loaded index in a later worker task (:meth:`_swap_in`)."""
        rebuild = False
        try:
            with handle.lock:
                loaded = self._open_view(handle)
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

    def _reader(self, handle: IndexHandle) -> StoredReader:
        """Reads the table's stored vectors by id."""
        return partial(self.vectors.get_many, handle.table, handle.spec)

    def _stored(self, handle: IndexHandle) -> StoredVectors:
        """The table's stored vectors, for a backend whose files do not hold them."""
        return StoredVectors(self._reader(handle), partial(self.vectors.scan, handle.table, handle.spec))

    def _attach(self, handle: IndexHandle, index: AnnIndex) -> None:
        """Let ``index`` read its rows' exact vectors from the store, if it can (:class:`~.ann.ReadsStored`)."""
        if isinstance(index, ReadsStored):
            index.stored = self._reader(handle)

    def _install(self, handle: IndexHandle, index: AnnIndex) -> None:
        """Make ``index`` the handle's (caller holds its lock): pending changes it holds are not applied again."""
        self._attach(handle, index)
        handle.index = index
        handle.covered = index.seq
        with handle.tail_lock:
            handle.pending.resuspect()

    def _open_view(self, handle: IndexHandle) -> AnnIndex | None:
        """The saved files as the backend's stand-in (sizes checked against the manifest, caught up),
        or None: no such backend, no files, or a problem :meth:`_open` will find and report."""
        view = self.backend.view
        if view is None or not self.backend.exists(handle.base):
            return None
        seq_now = self.store.wal_seq()
        try:  # checksums too: a damaged file must never answer (the load that follows checks sizes only)
            covered = self.manifests.verify(handle.base, self.backend.paths(handle.base))
            index = view(handle.base, handle.dimensions, self._stored(handle))
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
        stand_in = handle.index
        checked = stand_in.main.seq if isinstance(stand_in, Overlaid) else None  # its files passed the digests
        index = self._verified(handle, checked, before_load=lambda: self._between_searches(handle, began))
        rebuild = False
        with handle.lock:
            if handle.dropped or not handle.staged:
                return
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
        began answering): hnswlib holds the GIL while it takes the saved records in, so a search running meanwhile
        would wait for the whole load."""
        deadline = time.monotonic() + LOAD_PATIENCE
        while time.monotonic() - max(handle.searched_at, began) < LOAD_QUIET and time.monotonic() < deadline:
            if self._closing.wait(min(LOAD_QUIET / 4, 0.05)):
                return

    def _verified(self, handle: IndexHandle, checked: int | None = None,
                  before_load: Callable[[], None] | None = None) -> AnnIndex | None:
        """The saved index loaded after its files matched their manifest (sizes and digests; only the sizes
        while the manifest still covers ``checked``, the sequence of files whose digests were checked already),
        or None (logged); ``before_load`` is called between the check and the load."""
        try:
            paths = self.backend.paths(handle.base)
            covered = self.manifests.verify(handle.base, paths, checksums=checked is None)
            if checked is not None and covered != checked:  # saved again since (another process)
                covered = self.manifests.verify(handle.base, paths)
            if before_load is not None:
                before_load()
            index = self.backend.load(handle.base, handle.dimensions, self._stored(handle))
            if index.seq != covered:
                raise CorruptIndex(f"{handle.base.name}: the files cover sequence {index.seq}, "
                                   f"their manifest {covered}")
            if not self.read_only:
                self.manifests.upgrade(handle.base, paths)
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
            self._attach(handle, index)
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
