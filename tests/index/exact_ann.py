"""A second ANN backend for the contract tests (imported as ``exact_ann``): exact cosine search over a numpy
matrix, one ``.npz`` file. It keeps the contract honest: the suite must pass for any correct backend, not
just for hnswlib's quirks. One module, one registration line."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from rem_db.index.ann import CorruptIndex, register_ann


class ExactIndex:
    """Brute-force cosine search; labels are row numbers, freed rows are reused."""

    def __init__(self, dimensions: int, capacity: int = 0) -> None:
        self.dimensions = dimensions
        self.seq = 0
        self.ids: list[bytes | None] = []
        self.labels: dict[bytes, int] = {}
        self.matrix = np.zeros((0, dimensions), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def set_ef(self, ef: int) -> None:
        pass  # exact: nothing to tune

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        rows = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dimensions)
        for id16, row in zip(ids, rows, strict=True):
            label = self.labels.get(id16)
            if label is None:
                label = next((n for n, i in enumerate(self.ids) if i is None), len(self.ids))
                if label == len(self.ids):
                    self.ids.append(id16)
                    self.matrix = np.vstack([self.matrix, np.zeros((1, self.dimensions), dtype=np.float32)])
                self.ids[label] = id16
                self.labels[id16] = label
            self.matrix[label] = row

    def remove(self, ids: list[bytes]) -> None:
        for id16 in ids:
            label = self.labels.pop(id16, None)
            if label is not None:
                self.ids[label] = None

    def label_of(self, id16: bytes) -> int | None:
        return self.labels.get(id16)

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        return {self.labels[i] for i in ids if i in self.labels}

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        return self.matrix[[self.labels[i] for i in ids]].reshape(len(ids), self.dimensions)

    def search(self, vector: np.ndarray, k: int,
               allowed: Callable[[int], bool] | None = None) -> list[tuple[bytes, float]]:
        live = [n for n, i in enumerate(self.ids) if i is not None and (allowed is None or allowed(n))]
        if not live or k <= 0:
            return []
        scores = self.matrix[live] @ np.asarray(vector, dtype=np.float32).reshape(-1)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[live[n]] or b"", float(scores[n])) for n in order]

    def save(self, base: Path) -> None:
        base.parent.mkdir(parents=True, exist_ok=True)
        ids = np.frombuffer(b"".join(i or b"\0" * 16 for i in self.ids), dtype=np.uint8).reshape(-1, 16)
        live = np.array([i is not None for i in self.ids], dtype=bool)
        tmp = base.with_name(base.name + ".tmp.npz")
        np.savez(tmp, matrix=self.matrix, ids=ids, live=live, seq=np.array([self.seq, self.dimensions]))
        os.replace(tmp, base.with_name(base.name + ".npz"))

    @classmethod
    def load(cls, base: Path, dimensions: int) -> ExactIndex:
        try:
            with np.load(base.with_name(base.name + ".npz")) as saved:
                matrix, ids, live, (seq, dims) = saved["matrix"], saved["ids"], saved["live"], saved["seq"]
        except Exception as exc:
            raise CorruptIndex(f"{base}: {type(exc).__name__}: {exc}") from None
        if dims != dimensions or matrix.shape != (len(ids), dimensions) or len(live) != len(ids):
            raise CorruptIndex(f"{base}: dimension or size mismatch")
        index = cls(dimensions)
        index.matrix = matrix.astype(np.float32)
        index.ids = [bytes(r) if ok else None for r, ok in zip(ids, live, strict=True)]
        index.labels = {i: n for n, i in enumerate(index.ids) if i is not None}
        index.seq = int(seq)
        return index


register_ann("exact", create=ExactIndex, load=ExactIndex.load, files=(".npz",))
