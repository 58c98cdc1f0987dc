"""The pending tail of a vector index: committed changes not yet in the ANN graph, searched exactly.

Writes hand their vectors to :meth:`PendingTail.add` after commit; the background worker moves them into the
graph in chunks (:mod:`.vectors`). Until then a search sees the graph through a :class:`TailView`: ids with a
pending change are hidden from the graph's results, their latest vectors are searched exactly, and the two
top-k lists are merged. So a search right after a large load answers at once (read-your-writes), without
waiting for the graph to catch up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .ann import AnnIndex
from .exact import ExactIndex

#: tail labels start here (graph labels stay below)
OFFSET = 1 << 48


class Piece(NamedTuple):
    """Changes taken from the tail: ids of commit ``seq`` (their vectors, or None for removals); ``last``
    when no part of that commit is left in the tail."""

    seq: int
    ids: list[bytes]
    vectors: np.ndarray | None
    last: bool


class PendingTail:
    """Pending changes in commit order plus the latest state of every id they touch (callers lock)."""

    def __init__(self, dimensions: int) -> None:
        self.entries: list[tuple[int, list[bytes], np.ndarray | None]] = []  # (seq, ids, vectors or None)
        self.rows = 0  # ids over all entries
        self.exact = ExactIndex(dimensions)  # latest vector of each pending upserted id
        self.touched: dict[bytes, int] = {}  # id -> pending entries that change it
        # touched ids that may have an older vector in the graph: the graph's results must leave them out.
        # A bulk load of new ids leaves this empty, so a search need not look at every pending id.
        self.suspects: set[bytes] = set()
        #: whether the graph holds an id (set by the index's owner; the default suspects every id)
        self.graph_has: Callable[[bytes], bool] = lambda id16: True

    def add(self, seq: int, ids: list[bytes], vectors: np.ndarray | None) -> None:
        self.entries.append((seq, ids, vectors))
        self.rows += len(ids)
        touched, graph_has, suspects = self.touched, self.graph_has, self.suspects
        for id16 in ids:
            touched[id16] = touched.get(id16, 0) + 1
            if graph_has(id16):
                suspects.add(id16)
        if vectors is None:
            self.exact.remove(ids)
        else:
            self.exact.upsert(ids, vectors)

    def resuspect(self) -> None:
        """Recompute :attr:`suspects` after the graph was replaced (loaded or rebuilt)."""
        self.suspects = {i for i in self.touched if self.graph_has(i)}

    def take(self, limit: int, upto: int | None = None) -> list[Piece]:
        """Pop changes of up to ``limit`` ids, only of commits ``<= upto`` when given: the caller applies
        them to the graph and then calls :meth:`settle` with them. An entry larger than ``limit`` is split
        (so the caller holds the graph's lock for ``limit`` ids at most)."""
        taken: list[Piece] = []
        rows = 0
        while self.entries and rows < limit and (upto is None or self.entries[0][0] <= upto):
            seq, ids, vectors = self.entries[0]
            room = limit - rows
            if len(ids) > room:
                self.entries[0] = (seq, ids[room:], None if vectors is None else vectors[room:])
                taken.append(Piece(seq, ids[:room], None if vectors is None else vectors[:room], False))
                rows += room
                break
            self.entries.pop(0)
            taken.append(Piece(seq, ids, vectors, True))
            rows += len(ids)
        self.rows -= rows
        return taken

    def settle(self, applied: list[Piece]) -> None:
        """Forget the tail state of ids whose every pending change is now in the graph; an id with a later
        change still pending now has an older vector in the graph (a suspect)."""
        touched, suspects, done = self.touched, self.suspects, []
        for piece in applied:
            for id16 in piece.ids:
                left = touched[id16] - 1
                if left:
                    touched[id16] = left
                    suspects.add(id16)
                else:
                    del touched[id16]
                    suspects.discard(id16)
                    done.append(id16)
        if touched:
            self.exact.remove(done)
        elif self.exact.ids:  # all in the graph: free the matrix (a bulk load's tail is large)
            self.exact = ExactIndex(self.exact.dimensions)


class TailView:
    """The graph plus the pending tail, as one :class:`~.ann.AnnIndex` for searching (never saved)."""

    def __init__(self, main: AnnIndex, tail: PendingTail) -> None:
        self.main, self.tail = main, tail
        self.dimensions, self.seq = main.dimensions, main.seq
        self.masked = {label for i in tail.suspects if (label := main.label_of(i)) is not None}

    def __len__(self) -> int:
        return len(self.main) - len(self.masked) + len(self.tail.exact)

    def set_ef(self, ef: int) -> None:
        self.main.set_ef(ef)

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        raise NotImplementedError("a tail view is read-only")

    def remove(self, ids: list[bytes]) -> None:
        raise NotImplementedError("a tail view is read-only")

    def save(self, base: Path) -> None:
        raise NotImplementedError("a tail view is never saved")

    def label_of(self, id16: bytes) -> int | None:
        if id16 in self.tail.touched:
            label = self.tail.exact.label_of(id16)
            return None if label is None else OFFSET + label
        return self.main.label_of(id16)

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        return {label for i in ids if (label := self.label_of(i)) is not None}

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        out = np.empty((len(ids), self.dimensions), dtype=np.float32)
        tail = [n for n, i in enumerate(ids) if i in self.tail.touched]
        main = [n for n, i in enumerate(ids) if i not in self.tail.touched]
        if tail:
            out[tail] = self.tail.exact.vectors([ids[n] for n in tail])
        if main:
            out[main] = self.main.vectors([ids[n] for n in main])
        return out

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """The ``k`` best of the graph's results (ids with pending changes left out) and the tail's."""
        masked = self.masked
        if masked:
            main_allowed: Callable[[int], bool] | None = (
                (lambda label: label not in masked) if allowed is None
                else (lambda label: label not in masked and allowed(label)))
        else:
            main_allowed = allowed
        live_main = len(self.main) - len(masked)
        found = self.main.search(vector, min(k, live_main), allowed=main_allowed, ef=ef) if live_main > 0 else []
        tail_allowed = None if allowed is None else (lambda n: allowed(OFFSET + n))
        found += self.tail.exact.search(vector, k, allowed=tail_allowed)
        found.sort(key=lambda hit: -hit[1])
        return found[:k]


class Overlaid:
    """A read-only index (a saved file searched in place, :mod:`.hnsw_file`) plus the changes made while it
    stands in for the graph being loaded: they are kept like a pending tail and searched through a
    :class:`TailView`. Never saved: the loaded graph replaces it, caught up from the WAL."""

    def __init__(self, main: AnnIndex) -> None:
        self.main = main
        self.dimensions, self.seq = main.dimensions, main.seq
        self.changes = PendingTail(main.dimensions)
        self.changes.graph_has = lambda id16: main.label_of(id16) is not None

    def _view(self) -> TailView:
        return TailView(self.main, self.changes)

    def __len__(self) -> int:
        return len(self._view())

    def set_ef(self, ef: int) -> None:
        self.main.set_ef(ef)

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        self.changes.add(self.seq, ids, np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dimensions))

    def remove(self, ids: list[bytes]) -> None:
        self.changes.add(self.seq, ids, None)

    def save(self, base: Path) -> None:
        raise RuntimeError("a stand-in is never saved: the loaded graph replaces it")

    def label_of(self, id16: bytes) -> int | None:
        return self._view().label_of(id16)

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        return self._view().labels_of(ids)

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        return self._view().vectors(ids)

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        return self._view().search(vector, k, allowed=allowed, ef=ef)
