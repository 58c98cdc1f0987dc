"""Search straight from a saved HNSW file set, memory-mapped: what answers a table's searches right after
``Database()`` while the graph itself loads (hnswlib reads the whole file into memory first: 0.2 s for 100,000
384-d vectors; mapping the file takes a millisecond).

hnswlib's file (``saveIndex``, unchanged since hnswlib 0.5) is a 96-byte header followed by one fixed-size
record per element: its level-0 links (a count, then up to ``maxM0`` element numbers), its vector (float32,
unit length for the cosine space) and its label (uint64); the upper levels come after. An unfiltered search
walks the bottom layer in place, from the graph's entry point, keeping the ``ef`` best like hnswlib's own
search of that layer (~1.5 ms at 100,000 vectors, recall@10 0.99 on the peers corpus, touching a few thousand
records); a filtered one scans the vectors exactly, read in place as a strided matrix (~10–20 ms). The label
of each record maps to its id through ``NAME.ids.npy`` and to whether it is live through ``NAME.live.npy``
(the same files :meth:`.hnsw.HnswIndex.load` reads). Any inconsistency is :class:`~.ann.CorruptIndex`.

The view is read-only: :class:`~.tail.Overlaid` takes the changes made while it stands in.
"""

from __future__ import annotations

import heapq
import mmap
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import orjson

from .ann import CorruptIndex
from .exact import best
from .tail import Overlaid

#: offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset, offsetData (size_t),
#: maxlevel (int), enterpoint_node (uint), maxM, maxM0, M (size_t), mult (double), ef_construction (size_t)
_HEADER = struct.Struct("<6QiI3QdQ")


class HnswFile:
    """The live vectors of a saved hnswlib index, searched in place (read-only)."""

    def __init__(self, base: Path, dimensions: int) -> None:
        meta = orjson.loads((base.parent / (base.name + ".json")).read_bytes())
        if meta.get("format") != 1 or meta["dimensions"] != dimensions:
            raise CorruptIndex(f"{base}: format or dimension mismatch")
        self.ids_raw = np.load(str(base) + ".ids.npy")
        live = np.load(str(base) + ".live.npy")
        labels = int(meta["labels"])
        if self.ids_raw.shape != (labels, 16) or len(live) != labels or int(live.sum()) != meta["count"]:
            raise CorruptIndex(f"{base}: id map does not match the index metadata")
        with open(str(base) + ".hnsw", "rb") as fh:  # pages are read as a search touches them
            mapped = mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ)
        if len(mapped) < _HEADER.size:
            raise CorruptIndex(f"{base}: the hnsw file is truncated")
        _, _, count, per_element, label_at, vector_at, _, entry, _, max_m0, *_ = _HEADER.unpack_from(mapped)
        if (count != labels or label_at != vector_at + 4 * dimensions or per_element != label_at + 8
                or vector_at != 4 + 4 * max_m0 or (count and entry >= count)):
            raise CorruptIndex(f"{base}: the hnsw file's layout does not match {labels} {dimensions}-d vectors")
        if len(mapped) < _HEADER.size + count * per_element:
            raise CorruptIndex(f"{base}: the hnsw file is shorter than its {count} elements")
        self.dimensions = dimensions
        self.seq = int(meta["seq"])
        records = np.frombuffer(mapped, dtype=np.uint8, count=count * per_element,
                                offset=_HEADER.size).reshape(count, per_element)
        self.matrix = records[:, vector_at:label_at].view(np.float32)  # strided: no copy
        self.link_counts = records[:, 0:2].view(np.uint16).reshape(-1)  # (the count's other two bytes: flags)
        self.links = records[:, 4:vector_at].view(np.uint32)
        self.max_m0, self.entry, self.ef = max_m0, entry, 64
        # each element's label is read when needed: reading them all touches every page of the file (~10 ms)
        self._label_column = records[:, label_at:]
        self.label_live = live
        self.live = int(meta["count"])
        self._row_labels: np.ndarray | None = None
        self._labels: dict[bytes, int] | None = None
        self.base = base

    @classmethod
    def open(cls, base: Path, dimensions: int) -> Overlaid:
        """The saved index at ``base`` as a stand-in that also takes changes (:class:`~.tail.Overlaid`)."""
        try:
            return Overlaid(cls(base, dimensions))
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

    @property
    def row_labels(self) -> np.ndarray:
        """The label of every element (row), read from the file on first use; :class:`~.ann.CorruptIndex` if
        one is beyond the id map."""
        labels = self._every_label()
        if len(labels) and int(labels.min()) < 0:
            raise CorruptIndex(f"{self.base}: the hnsw file holds a label its id map has not")
        return labels

    @property
    def row_live(self) -> np.ndarray:
        """Whether each element (row) holds a live id (never one whose label is beyond the id map)."""
        return self._live_of(self._every_label())

    def _every_label(self) -> np.ndarray:
        if self._row_labels is None:
            self._row_labels = self._labels_at(slice(None))
        return self._row_labels

    def _labels_at(self, rows: slice | list[int]) -> np.ndarray:
        """The labels of these rows; -1 for a label beyond the id map (a damaged file: never answered)."""
        found = np.ascontiguousarray(self._label_column[rows]).view(np.uint64).reshape(-1)
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
        row_of = {label: row for row, label in enumerate(self.row_labels.tolist())}
        wanted = [row_of[self.labels[i]] for i in ids]
        return np.asarray(self.matrix[wanted], dtype=np.float32).reshape(len(ids), self.dimensions)

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """The ``k`` nearest live ids: by a walk of the bottom layer of breadth ``ef`` (default :attr:`ef`),
        or exactly when ``allowed`` filters (or the walk finds fewer than ``k`` live ones)."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if allowed is None and 0 < k <= self.live:
            rows = self._walk(query, max(k, self.ef if ef is None else ef))
            labels = self._labels_at(rows)
            live = np.flatnonzero(self._live_of(labels)).tolist()[:k]
            if len(live) == k:
                raw, scores = self.ids_raw, self.matrix[[rows[n] for n in live]] @ query
                return [(raw[labels[n]].tobytes(), float(score))
                        for n, score in zip(live, scores.tolist(), strict=True)]
        return self._scan(query, k, allowed)

    def _walk(self, query: np.ndarray, ef: int) -> list[int]:
        """Rows (elements) nearest ``query``, best first: hnswlib's bottom-layer search from the entry point,
        keeping the ``ef`` best found and expanding the nearest unexpanded one until it is worse than all of
        them (removed elements are walked through, as hnswlib does)."""
        count, links, counts, matrix = len(self.matrix), self.links, self.link_counts, self.matrix
        visited = np.zeros(count, dtype=bool)
        visited[self.entry] = True
        first = float(matrix[self.entry] @ query)
        frontier, best = [(-first, self.entry)], [(first, self.entry)]
        push, pop = heapq.heappush, heapq.heappop
        while frontier:
            negated, row = pop(frontier)
            if -negated < best[0][0] and len(best) >= ef:
                break
            near = links[row, :min(int(counts[row]), self.max_m0)]
            near = near[near < count]  # (a damaged record never indexes out of the file)
            near = near[~visited[near]]
            if not len(near):
                continue
            visited[near] = True
            for other, score in zip(near.tolist(), (matrix[near] @ query).tolist(), strict=True):
                if len(best) < ef or score > best[0][0]:
                    push(frontier, (-score, other))
                    push(best, (score, other))
                    if len(best) > ef:
                        pop(best)
        return [row for _, row in sorted(best, reverse=True)]

    def _scan(self, query: np.ndarray, k: int, allowed: Callable[[int], bool] | None) -> list[tuple[bytes, float]]:
        """Exactly the ``k`` nearest live ids ``allowed`` accepts."""
        labels = self._every_label()
        keep = self._live_of(labels)
        if allowed is not None:
            keep = keep & np.fromiter((allowed(label) for label in labels.tolist()), dtype=bool, count=len(labels))
        rows = np.flatnonzero(keep)
        if not len(rows) or k <= 0:
            return []
        scores = self.matrix @ query
        if len(rows) < len(scores):
            scores = scores[rows]
        raw = self.ids_raw
        return [(raw[labels[rows[n]]].tobytes(), float(scores[n])) for n in best(scores, k)]
