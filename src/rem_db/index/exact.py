"""Exact cosine search over an in-memory matrix: the stand-in that answers searches while an ANN index is
being rebuilt (a corrupt or stale index file, see :mod:`.vectors`), so a search never waits for the rebuild
and never returns an approximate or wrong answer.

It implements the :class:`~.ann.AnnIndex` protocol without persistence (it is never saved: the rebuilt ANN
index is). Labels are row numbers; rows of removed ids are reused. Memory: ``4 * dimensions`` bytes per
vector (150 MiB for 100,000 384-d vectors).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .labels import Labels


def best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest ``scores``, highest first (ties: lower position first)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]


class ExactIndex(Labels):
    """Brute-force cosine search over unit vectors."""

    def __init__(self, dimensions: int, capacity: int = 0) -> None:
        super().__init__()
        self.dimensions = dimensions
        self.seq = 0
        self.matrix = np.zeros((max(capacity, 16), dimensions), dtype=np.float32)
        self.alive = np.zeros(len(self.matrix), dtype=bool)  # rows holding a live id

    def set_ef(self, ef: int) -> None:
        """Nothing to tune: every search is exact."""

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        rows = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dimensions)
        labels, _ = self.assign(ids)
        if len(self.ids) > len(self.matrix):
            grown = np.zeros((max(len(self.ids), 2 * len(self.matrix)), self.dimensions), dtype=np.float32)
            grown[:len(self.matrix)] = self.matrix
            self.matrix = grown
            self.alive = np.concatenate([self.alive, np.zeros(len(grown) - len(self.alive), dtype=bool)])
        if len(labels) == 1:  # a single insert: plain indexing is several times cheaper than a label list
            self.matrix[labels[0]] = rows[0]
            self.alive[labels[0]] = True
            return
        self.matrix[labels] = rows
        self.alive[labels] = True

    def remove(self, ids: list[bytes]) -> None:
        self.alive[self.release(ids)] = False

    def restore(self, ids: list[bytes | None]) -> None:
        """Rebuild the map from a saved ``ids`` list (rows ``0..len(ids)`` of :attr:`matrix`)."""
        super().restore(ids)
        self.alive = np.zeros(max(len(self.matrix), len(ids)), dtype=bool)
        self.alive[:len(ids)] = [i is not None for i in ids]

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        return self.matrix[[self.labels[i] for i in ids]].reshape(len(ids), self.dimensions)

    def live(self) -> tuple[list[bytes], np.ndarray]:
        """Every live id and a copy of its vector (what a rebuild starts from)."""
        ids = list(self.labels)
        return ids, self.matrix[[self.labels[i] for i in ids]].copy()

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """Exactly the ``k`` nearest (``ef`` is accepted for the protocol: an exact search has no breadth)."""
        rows = len(self.ids)
        if allowed is None:  # one product over the rows in place (no copy), dead rows dropped after
            live = np.flatnonzero(self.alive[:rows])
            scores = self.matrix[:rows] @ np.asarray(vector, dtype=np.float32).reshape(-1)
            if len(live) < rows:
                scores = scores[live]
        else:
            live = np.fromiter((n for n, i in enumerate(self.ids) if i is not None and allowed(n)), dtype=np.int64)
            scores = self.matrix[live] @ np.asarray(vector, dtype=np.float32).reshape(-1)
        return [(self.ids[int(live[n])] or b"", float(scores[n])) for n in best(scores, k)]

    def save(self, base: Path) -> None:
        """Never saved (the rebuilt ANN index is): a no-op kept for the protocol."""
