"""Exact search straight from a saved HNSW file set, memory-mapped: what answers a table's searches right
after ``Database()`` while the graph itself loads (hnswlib reads the whole file into memory first: 0.2 s for
100,000 384-d vectors; mapping the file takes a millisecond and an exact scan of it ~10–20 ms).

hnswlib's file (``saveIndex``, unchanged since hnswlib 0.5) is a 96-byte header followed by one fixed-size
record per element: its level-0 links, its vector (float32, unit length for the cosine space) and its
label (uint64); the upper levels come after. The vectors are read in place as a strided matrix; the label
of each record maps to its id through ``NAME.ids.npy`` and to whether it is live through ``NAME.live.npy``
(the same files :meth:`.hnsw.HnswIndex.load` reads). Any inconsistency is :class:`~.ann.CorruptIndex`.

The view is read-only: :class:`~.tail.Overlaid` takes the changes made while it stands in.
"""

from __future__ import annotations

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
    """The live vectors of a saved hnswlib index, searched exactly in place (read-only)."""

    def __init__(self, base: Path, dimensions: int) -> None:
        meta = orjson.loads((base.parent / (base.name + ".json")).read_bytes())
        if meta.get("format") != 1 or meta["dimensions"] != dimensions:
            raise CorruptIndex(f"{base}: format or dimension mismatch")
        self.ids_raw = np.load(str(base) + ".ids.npy")
        live = np.load(str(base) + ".live.npy")
        labels = int(meta["labels"])
        if self.ids_raw.shape != (labels, 16) or len(live) != labels or int(live.sum()) != meta["count"]:
            raise CorruptIndex(f"{base}: id map does not match the index metadata")
        with open(str(base) + ".hnsw", "rb") as fh:  # mapped at once (MAP_POPULATE), not page by page later
            mapped = mmap.mmap(fh.fileno(), 0, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                               prot=mmap.PROT_READ)
        if len(mapped) < _HEADER.size:
            raise CorruptIndex(f"{base}: the hnsw file is truncated")
        _, _, count, per_element, label_at, vector_at, *_ = _HEADER.unpack_from(mapped)
        if count != labels or label_at != vector_at + 4 * dimensions or per_element != label_at + 8:
            raise CorruptIndex(f"{base}: the hnsw file's layout does not match {labels} {dimensions}-d vectors")
        if len(mapped) < _HEADER.size + count * per_element:
            raise CorruptIndex(f"{base}: the hnsw file is shorter than its {count} elements")
        self.dimensions = dimensions
        self.seq = int(meta["seq"])
        records = np.frombuffer(mapped, dtype=np.uint8, count=count * per_element,
                                offset=_HEADER.size).reshape(count, per_element)
        self.matrix = records[:, vector_at:label_at].view(np.float32)  # strided: no copy
        self.row_labels = records[:, label_at:].view(np.uint64).reshape(-1).astype(np.int64)
        if len(self.row_labels) and int(self.row_labels.max()) >= labels:
            raise CorruptIndex(f"{base}: the hnsw file holds a label its id map has not")
        self.row_live = live[self.row_labels]
        self.live = int(self.row_live.sum())
        self._labels: dict[bytes, int] | None = None

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
            rows = self.row_labels[self.row_live].tolist()
            self._labels = {buf[16 * n:16 * n + 16]: n for n in rows}
        return self._labels

    def set_ef(self, ef: int) -> None:
        """Nothing to tune: every search is exact."""

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
        """Exactly the ``k`` nearest live ids (``ef`` is accepted for the protocol)."""
        keep = self.row_live
        if allowed is not None:
            keep = keep & np.fromiter((allowed(int(label)) for label in self.row_labels), dtype=bool,
                                      count=len(self.row_labels))
        rows = np.flatnonzero(keep)
        if not len(rows) or k <= 0:
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        if len(rows) < len(scores):
            scores = scores[rows]
        raw = self.ids_raw
        return [(raw[self.row_labels[rows[n]]].tobytes(), float(scores[n])) for n in best(scores, k)]
