"""One (table, provider) vector index as the database handle holds it: the loaded index (or a stand-in),
its pending tail, its locks and the bookkeeping of loading and saving (:mod:`.vectors`, :mod:`.loading`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from .ann import AnnIndex
from .tail import Overlaid, PendingTail


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
        # the graph's catch-up, deferred while single writes come in a burst; ``catch_up_due`` is set until
        # the timer queues it (writes meanwhile need not wake the worker)
        self.catch_up_timer: threading.Timer | None = None
        self.catch_up_due = False
        self.dropped = False  # set by drop(): a save still queued must not write the files again
        # while a rebuild runs: the changes applied to the interim exact index, replayed onto the new index
        self.replay: list[tuple[list[bytes], np.ndarray | None]] | None = None

    @property
    def staged(self) -> bool:
        """The saved files answer (exactly, mapped) while the index itself loads."""
        return isinstance(self.index, Overlaid)

    @property
    def standing_in(self) -> bool:
        """A stand-in answers (a rebuild's exact index, or the saved files): nothing is saved meanwhile."""
        return self.replay is not None or self.staged
