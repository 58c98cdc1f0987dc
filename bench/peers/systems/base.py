"""The tiny interface every system module of the peers benchmark implements.

Rows are ``{"id": "doc-17", "body": text, "category": str, "year": int}``; vectors are float32 unit rows.
``search`` returns the ``id`` strings of the best rows, best first, so recall is computed the same way for
every system."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

M = 16
EF_CONSTRUCTION = 200
EF_SEARCH = 64


class System:
    """A database under test, living in one directory."""

    name = "?"
    #: how the system indexes vectors with these parameters (shown in RESULTS.md)
    index_note = ""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        """Create the collection and bulk-load ``rows`` with ``vectors``, index included; returns when the
        system says the load is done (its own bulk path, as a user would call it)."""
        raise NotImplementedError

    def wait_indexed(self) -> None:
        """Block until the vector index covers every loaded row (a no-op where the load builds it before
        returning)."""

    def open(self) -> None:
        """Open the existing collection in ``path`` (a fresh process calls this, then ``search``)."""
        raise NotImplementedError

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        """Ids of the ``k`` nearest rows (cosine), optionally only rows with this ``category``."""
        raise NotImplementedError

    def get(self, doc_id: str) -> dict[str, Any]:
        """The row with this id (its fields; the vector is not asked for)."""
        raise NotImplementedError

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        """Insert one new row with its vector, durable as the system's defaults make it."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the directory."""
