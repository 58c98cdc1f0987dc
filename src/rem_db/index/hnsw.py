"""One HNSW graph (hnswlib, cosine) for one (tenant, table, provider), with the id <-> label mapping.

Files under ``{db}/indexes/``: ``NAME.graph`` (the graph without the vectors, :mod:`.hnsw_graph`: each vector
is stored once, in the ``embeddings`` family), ``NAME.ids.npy`` (16-byte ids by label), ``NAME.live.npy`` and
``NAME.json`` (dimension, counts, the graph's layout and ``seq``: the last WAL sequence the saved index
reflects). The JSON is written last, so a crash mid-save leaves either the old set or a mismatch that loading
rejects.
Registered as the ``hnsw`` backend of :mod:`.ann`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import hnswlib
import numpy as np
import orjson

from ..schema.model import HnswSettings
from .ann import CorruptIndex, StoredReader, StoredVectors, register_ann
from .hnsw_file import HnswFile
from .hnsw_graph import FORMAT, LEGACY_SUFFIX, SUFFIXES, open_saved, unit_rows, write_graph
from .labels import Labels
from .sketch import Subset, VectorSketch

__all__ = ["CorruptIndex", "HnswIndex"]

_DEFAULTS = HnswSettings()  # a table's schema setting ``hnsw`` overrides them (docs/search.md)
M = _DEFAULTS.m
EF_CONSTRUCTION = _DEFAULTS.ef_construction
DEFAULT_EF = _DEFAULTS.ef_search
INITIAL_CAPACITY = 1024


class HnswIndex(Labels):
    """hnswlib index with stable integer labels per entity id (an update replaces the vector in place)."""

    #: set by the owner (index/loading.py): reads the rows' exact vectors from the store
    stored: StoredReader | None = None

    def __init__(self, dimensions: int, capacity: int = INITIAL_CAPACITY) -> None:
        super().__init__()
        self.dimensions = dimensions
        self.index = hnswlib.Index(space="cosine", dim=dimensions)
        self.index.init_index(max_elements=capacity, ef_construction=EF_CONSTRUCTION, M=M, allow_replace_deleted=False)
        self.default_ef = DEFAULT_EF
        self.index.set_ef(DEFAULT_EF)
        self.seq = 0
        self.threads = -1  # cores an upsert may use (-1: all)
        self.sketch = VectorSketch(dimensions)  # for searches among a subset of the rows (filters)

    def configure(self, m: int, ef_construction: int) -> None:
        """Build the graph with degree ``m`` and construction breadth ``ef_construction`` (the schema setting
        ``hnsw``); only while the index is empty (they are fixed once vectors are in)."""
        if self.ids:
            raise ValueError("the graph parameters of an HNSW index are set before its first vector")
        if (m, ef_construction) == (self.index.M, self.index.ef_construction):
            return
        capacity = self.index.get_max_elements()
        self.index = hnswlib.Index(space="cosine", dim=self.dimensions)
        self.index.init_index(max_elements=capacity, ef_construction=ef_construction, M=m,
                              allow_replace_deleted=False)
        self.index.set_ef(self.default_ef)

    @property
    def m(self) -> int:
        """The graph degree the index was built with."""
        return int(self.index.M)

    @property
    def ef_construction(self) -> int:
        """The construction breadth the index was built with."""
        return int(self.index.ef_construction)

    @property
    def ef(self) -> int:
        """The search breadth searches use unless they pass their own ``ef``."""
        return self.default_ef

    def set_threads(self, threads: int) -> None:
        """How many cores the next upserts may use (-1: all): the owner leaves one to a writer that is
        still loading rows."""
        self.threads = threads

    def set_ef(self, ef: int) -> None:
        """hnswlib's ``ef`` for the searches that pass none (raised to ``k`` by a search asking for more)."""
        self.default_ef = ef
        self.index.set_ef(ef)

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        """Add ids, or replace their vectors in place (same label)."""
        if not ids:
            return
        labels, reused = self.assign(ids)
        for label in reused:
            self.index.unmark_deleted(label)
        needed = len(self.ids)
        capacity = self.index.get_max_elements()
        if needed > capacity:
            self.index.resize_index(max(needed, capacity * 2))
        vectors = np.asarray(vectors, dtype=np.float32)
        self.index.add_items(vectors, np.asarray(labels, dtype=np.int64), num_threads=self.threads)
        self.sketch.set(np.asarray(labels, dtype=np.int64), vectors, len(self.labels), self._live)

    def _live(self) -> np.ndarray:
        return np.fromiter(self.labels.values(), dtype=np.int64, count=len(self.labels))

    def remove(self, ids: list[bytes]) -> None:
        """Mark ids deleted; their labels are reused by later adds."""
        for label in self.release(ids):
            self.index.mark_deleted(label)

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        """The unit vectors of live ids: read from the store (:attr:`stored`) where it has them, else from the
        graph (hnswlib's ``get_items``: ~17 µs a vector)."""
        return self._rows(ids, [self.labels[i] for i in ids])

    def _rows(self, ids: list[bytes], labels: list[int]) -> np.ndarray:
        out = np.empty((len(ids), self.dimensions), dtype=np.float32)
        missing = list(range(len(ids)))
        if self.stored is not None and ids:
            found, rows = unit_rows(self.stored(ids), self.dimensions)
            out[found] = rows  # as the graph holds them (cosine space)
            missing = [] if len(found) == len(ids) else sorted(set(missing).difference(found))
        if missing:  # no reader, or a row deleted from the store since the graph took it
            out[missing] = np.asarray(self.index.get_items([labels[n] for n in missing], return_type="numpy"),
                                      dtype=np.float32).reshape(len(missing), self.dimensions)
        return out

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """Up to ``k`` nearest ids with cosine similarity; ``allowed(label) -> bool`` pre-filters; ``ef``: the
        search breadth of this call (default :attr:`ef`; at least ``k``)."""
        k = min(k, len(self.labels))
        if k <= 0:
            return []
        ef = max(self.default_ef if ef is None else ef, k)
        if ef != self.index.ef:
            self.index.set_ef(ef)
        try:
            labels, distances = self.index.knn_query(np.asarray(vector, dtype=np.float32).reshape(1, -1), k=k,
                                                     filter=allowed)
        except RuntimeError:  # fewer than k elements pass the filter
            return self._search_exhaustive(vector, k, allowed)
        ids = self.ids  # hnswlib never returns a label marked deleted (None here)
        return [(id16, 1.0 - dist) for label, dist in zip(labels[0].tolist(), distances[0].tolist(), strict=True)
                if (id16 := ids[label]) is not None]

    def subset(self, labels: set[int]) -> Subset:
        """Some live labels, prepared for :meth:`search_subset` (a filter's rows, kept while it is cached)."""
        return self.sketch.subset(np.fromiter(labels, dtype=np.int64, count=len(labels)))

    def search_subset(self, subset: Subset, vector: np.ndarray, k: int) -> list[tuple[bytes, float]]:
        """Up to ``k`` nearest ids among the subset's labels with their exact cosine similarity: the rows the
        sketch picks (:mod:`.sketch`; exact up to 2,000 rows) scored exactly. Labels removed since the
        subset was taken are left out."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        ids = self.ids
        labels, found = [], []
        for label in self.sketch.nearest(subset, query, k).tolist():
            if (id16 := ids[label]) is not None:
                labels.append(label)
                found.append(id16)
        if not labels:
            return []
        scores = self._rows(found, labels) @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(found[n], float(scores[n])) for n in order.tolist()]

    def _search_exhaustive(self, vector: np.ndarray, k: int,
                           allowed: Callable[[int], bool] | None) -> list[tuple[bytes, float]]:
        candidates = [i for i, label in self.labels.items() if allowed is None or allowed(label)]
        if not candidates:
            return []
        scores = self.vectors(candidates) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores)[:k]
        return [(candidates[i], float(scores[i])) for i in order]

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, base: Path) -> None:
        """Write ``base.graph`` (the graph without the vectors: :mod:`.hnsw_graph`), ``.ids.npy``,
        ``.live.npy``, then ``base.json`` (last).

        Raises :class:`OSError` when a file cannot be written (the temporary files are removed again)."""
        base.parent.mkdir(parents=True, exist_ok=True)
        tmp = base.with_name(base.name + ".tmp")
        exts = SUFFIXES[1:]
        try:
            graph = write_graph(Path(str(tmp) + ".graph"), self.index.__getstate__()[0])
            ids = np.frombuffer(b"".join(i or b"\0" * 16 for i in self.ids), dtype=np.uint8).reshape(-1, 16)
            with open(str(tmp) + ".ids.npy", "wb") as fh:
                np.save(fh, ids)
            present = np.array([i is not None for i in self.ids], dtype=bool)
            with open(str(tmp) + ".live.npy", "wb") as fh:
                np.save(fh, present)
        except BaseException:
            for ext in exts:
                with contextlib.suppress(OSError):
                    os.unlink(str(tmp) + ext)
            raise
        for ext in exts:
            os.replace(str(tmp) + ext, str(base) + ext)
        meta = {"dimensions": self.dimensions, "count": len(self.labels), "labels": len(self.ids), "seq": self.seq,
                "format": FORMAT, "graph": graph}
        (base.parent / (base.name + ".json.tmp")).write_bytes(orjson.dumps(meta))
        os.replace(base.parent / (base.name + ".json.tmp"), base.parent / (base.name + ".json"))
        Path(str(base) + LEGACY_SUFFIX).unlink(missing_ok=True)  # an earlier version's file, now replaced

    @classmethod
    def load(cls, base: Path, dimensions: int, stored: StoredVectors) -> HnswIndex:
        """Load a saved index, its vectors read from ``stored`` (the store's); :class:`CorruptIndex` if any
        file is missing, unreadable or inconsistent."""
        meta, ids, live, graph = open_saved(base, dimensions, full=True)
        try:
            buf = np.ascontiguousarray(ids, dtype=np.uint8).tobytes()  # slicing one bytes object: 40 % faster
            raw: list[bytes | None] = [buf[n:n + 16] for n in range(0, len(buf), 16)]
            if not live.all():
                raw = [r if ok else None for r, ok in zip(raw, live.tolist(), strict=True)]
            self = cls.__new__(cls)
            self.restore(raw)
            row_labels = graph.labels.astype(np.int64)
            row_of_label = np.empty(len(raw), dtype=np.int64)
            row_of_label[row_labels] = np.arange(len(row_labels))
            level0 = graph.level0(_stored_rows(stored, self.labels, row_of_label))
            self.dimensions = dimensions
            self.index = hnswlib.Index(params=graph.state(level0, max(INITIAL_CAPACITY, len(raw)), dimensions))
            self.default_ef = DEFAULT_EF
            self.index.set_ef(DEFAULT_EF)
            self.threads = -1
            self.seq = int(meta["seq"])
            self.sketch = VectorSketch(dimensions)
            self.sketch.fill(row_labels, level0[:, graph.records.shape[1]:-8].view(np.float32), live[row_labels])
            return self
        except CorruptIndex:
            raise
        except Exception as exc:  # any unreadable or inconsistent file
            raise CorruptIndex(f"{base}: {type(exc).__name__}: {exc}") from None


def _stored_rows(stored: StoredVectors, label_of: dict[bytes, int],
                 row_of_label: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The stored vectors of the index's live ids as ``(rows, matrix)``, read in one scan of the table's
    vectors (rows the index does not have, added since it was saved, are left to the catch-up)."""
    for ids, matrix in stored.scan():
        labels = np.fromiter((label_of.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
        held = labels >= 0
        if held.all():
            yield row_of_label[labels], matrix
        elif held.any():
            yield row_of_label[labels[held]], matrix[held]


register_ann("hnsw", create=HnswIndex, load=HnswIndex.load, files=SUFFIXES, view=HnswFile.open)
