"""Search straight from a saved HNSW file set, memory-mapped: what answers a table's searches right after
``Database()`` while the graph itself loads (putting hnswlib's records back together from the stored vectors
and handing them to it takes 1–1.5 s at 100,000 384-d vectors; mapping the graph file takes a millisecond).

The graph file (:mod:`.hnsw_graph`) holds each element's links, label and an 8-bit code of its vector, not
the vector itself. An unfiltered search walks the bottom layer in place by the codes, from the graph's entry
point, keeping the ``ef`` best like hnswlib's own search of that layer (~1,400 codes at 100,000 rows); a
filtered one scores the codes of the elements its filter allows. Either then scores its best candidates
exactly, their vectors read from the store by id (``stored``: one multi-get). The label of each element maps
to its id through ``NAME.ids.npy`` and to whether it is live through ``NAME.live.npy`` (the same files
:meth:`.hnsw.HnswIndex.load` reads). Any inconsistency is :class:`~.ann.CorruptIndex`.

The view is read-only: :class:`~.tail.Overlaid` takes the changes made while it stands in.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .ann import CorruptIndex, StoredVectors
from .exact import best
from .hnsw_graph import open_saved, unit_rows
from .tail import Overlaid

SCAN_CHUNK = 8192  # codes decoded at a time by a scan
RESCORE_MARGIN = 64  # a scan scores exactly the best 4k + this many elements by their codes
WALK_MARGIN = 16  # a walk scores exactly its best 2k + this many


class HnswFile:
    """The live vectors of a saved HNSW index, searched in place (read-only), their vectors read from
    ``stored``."""

    def __init__(self, base: Path, dimensions: int, stored: StoredVectors) -> None:
        meta, self.ids_raw, self.label_live, self.graph = open_saved(base, dimensions)
        self.dimensions, self.stored, self.base = dimensions, stored.get, base
        self.seq = int(meta["seq"])
        self.live = int(meta["count"])
        self.ef = 64
        self._labels: dict[bytes, int] | None = None
        self._rows: np.ndarray | None = None

    @classmethod
    def open(cls, base: Path, dimensions: int, stored: StoredVectors) -> Overlaid:
        """The saved index at ``base`` as a stand-in that also takes changes (:class:`~.tail.Overlaid`)."""
        try:
            return Overlaid(cls(base, dimensions, stored))
        except CorruptIndex:
            raise
        except Exception as exc:  # any unreadable or truncated file
            raise CorruptIndex(f"{base}: {type(exc).__name__}: {exc}") from None

    def __len__(self) -> int:
        return self.live

    @property
    def labels(self) -> dict[bytes, int]:
        """id -> label of the live ids, built on first use (a write or a filter while the view stands in)."""
        if self._labels is None:
            buf = np.ascontiguousarray(self.ids_raw).tobytes()
            self._labels = {buf[16 * n:16 * n + 16]: n for n in np.flatnonzero(self.label_live).tolist()}
        return self._labels

    def _labels_at(self, rows: slice | list[int] | np.ndarray) -> np.ndarray:
        """The labels of these rows; -1 for a label beyond the id map (a damaged file: never answered)."""
        found = np.asarray(self.graph.labels[rows], dtype=np.uint64).reshape(-1)
        return np.where(found < len(self.label_live), found, np.uint64(2**63)).astype(np.int64).clip(-1)

    def _live_of(self, labels: np.ndarray) -> np.ndarray:
        return (labels >= 0) & self.label_live[np.maximum(labels, 0)]

    def set_ef(self, ef: int) -> None:
        """The breadth of the bottom-layer walk for searches that pass none."""
        self.ef = ef

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        raise RuntimeError("a saved index file is read-only: changes go to its Overlaid")

    def remove(self, ids: list[bytes]) -> None:
        raise RuntimeError("a saved index file is read-only: changes go to its Overlaid")

    def save(self, base: Path) -> None:
        raise RuntimeError("a saved index file is not saved again")

    def label_of(self, id16: bytes) -> int | None:
        return self.labels.get(id16)

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        labels = self.labels
        return {labels[i] for i in ids if i in labels}

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        found, rows = unit_rows(self.stored(ids), self.dimensions)
        out = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        out[found] = rows
        return out

    def _row_of_label(self) -> np.ndarray:
        """The element (row) of each label, -1 where none has it; built on first use (a filtered search)."""
        if self._rows is None:
            labels = self._labels_at(slice(None))
            rows = np.full(len(self.label_live), -1, dtype=np.int64)
            rows[labels[labels >= 0]] = np.flatnonzero(labels >= 0)
            self._rows = rows
        return self._rows

    def _rescored(self, rows: np.ndarray, query: np.ndarray) -> list[tuple[bytes, float]]:
        """The live ids among these elements with their exact scores (vectors read from the store), best
        first."""
        labels = self._labels_at(rows)
        raw = self.ids_raw
        ids = [raw[label].tobytes() for label in labels[self._live_of(labels)].tolist()]
        if not ids:
            return []
        found, matrix = unit_rows(self.stored(ids), self.dimensions)
        scores = matrix @ query
        return [(ids[found[n]], float(scores[n])) for n in np.argsort(-scores, kind="stable").tolist()]

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """The ``k`` nearest live ids: the nearest ``ef`` elements (default :attr:`ef`) by a walk of the
        bottom layer, or those ``allowed`` accepts by a scan of the codes; the best ``2k + 16`` of them (by
        their codes) then scored exactly."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if k <= 0:
            return []
        if allowed is None and k <= self.live:
            rows = self._walk(query, max(k, self.ef if ef is None else ef))
            hits = self._rescored(rows[:2 * k + WALK_MARGIN], query)  # the codes order them well enough
            if len(hits) < k:  # removed elements among the best: all the walk found
                hits = self._rescored(rows, query)
            if len(hits) >= k:
                return hits[:k]
        return self._scan(query, k, allowed)

    def _walk(self, query: np.ndarray, ef: int) -> np.ndarray:
        """The elements nearest ``query`` by their codes, best first: hnswlib's bottom-layer search from the
        entry point, keeping the ``ef`` best found and expanding the nearest unexpanded one until it is worse
        than all of them (removed elements are walked through, as hnswlib does)."""
        graph = self.graph
        count, links, counts = graph.count, graph.links, graph.link_counts
        if not count:
            return np.empty(0, dtype=np.int64)
        visited = np.zeros(count, dtype=bool)
        visited[graph.entry] = True
        first = float(graph.scores(np.array([graph.entry]), query)[0])
        frontier, kept = [(-first, graph.entry)], [(first, graph.entry)]
        push, pop = heapq.heappush, heapq.heappop
        while frontier:
            negated, row = pop(frontier)
            if -negated < kept[0][0] and len(kept) >= ef:
                break
            near = links[row, :min(int(counts[row]), graph.max_m0)]
            near = near[near < count]  # (a damaged record never indexes out of the file)
            near = near[~visited[near]]
            if not len(near):
                continue
            visited[near] = True
            for other, score in zip(near.tolist(), graph.scores(near, query).tolist(), strict=True):
                if len(kept) < ef or score > kept[0][0]:
                    push(frontier, (-score, other))
                    push(kept, (score, other))
                    if len(kept) > ef:
                        pop(kept)
        return np.array([row for _, row in sorted(kept, reverse=True)], dtype=np.int64)

    def _scan(self, query: np.ndarray, k: int, allowed: Callable[[int], bool] | None) -> list[tuple[bytes, float]]:
        """The ``k`` nearest live ids ``allowed`` accepts: every such element scored by its code, the best
        ``4k + 64`` of them again exactly (so up to that many it is exact)."""
        labels = np.flatnonzero(self.label_live)
        if allowed is not None:
            labels = labels[np.fromiter((allowed(label) for label in labels.tolist()), dtype=bool, count=len(labels))]
        rows = self._row_of_label()[labels]
        rows = rows[rows >= 0]
        if not len(rows):
            return []
        wanted = 4 * k + RESCORE_MARGIN
        if len(rows) > wanted:
            approx = np.concatenate([self.graph.scores(rows[start:start + SCAN_CHUNK], query)
                                     for start in range(0, len(rows), SCAN_CHUNK)])
            rows = rows[best(approx, wanted)]
        return self._rescored(rows, query)[:k]
