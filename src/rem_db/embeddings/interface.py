"""What an embedding provider is: the :class:`EmbeddingProvider` protocol every backend implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class EmbeddingProvider(Protocol):
    """Turns texts into L2-normalised float32 vectors; one call per batch.

    ``spec`` is the ``prefix:model`` it was made for; ``dimensions`` the length of its vectors. Failures are
    :class:`~rem_db.errors.EmbeddingError` (a call that failed) or :class:`~rem_db.errors.ConfigError` (a
    setting that cannot work)."""

    @property
    def spec(self) -> str:
        """``prefix:model``, e.g. ``local:all-MiniLM-L6-v2``."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        ...

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """``len(texts) x dimensions`` float32 array, rows L2-normalised, in the order of ``texts``."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
