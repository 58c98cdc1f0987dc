"""The `items` table of the vector API tests (vectors computed elsewhere, given with the rows), unit(), and
ids() / exact() / stored() for index tests (16-byte ids, numpy's exact top k over an id -> vector state, that
state read as the store's vectors)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from rem_db.index.ann import StoredVectors

ITEMS: dict[str, Any] = {
    "title": "items",
    "type": "object",
    "description": "Items with vectors computed elsewhere.",
    "properties": {"key": {"type": "string"}, "doc": {"type": "string"}, "group": {"type": "string"}},
    "key_field": "key",
    "indexed_fields": ["group"],
    "embedding_fields": ["doc"],
}


def unit(a: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, as float32."""
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


K = TypeVar("K")


def ids(n: int, start: int = 0) -> list[bytes]:
    """``n`` 16-byte ids counting from ``start``."""
    return [i.to_bytes(16, "big") for i in range(start, start + n)]


def exact(state: dict[K, np.ndarray], query: np.ndarray, k: int) -> list[K]:
    """The ``k`` keys of ``state`` whose unit vectors are nearest ``query`` (ties: insertion order)."""
    keys = list(state)
    scores = np.vstack([state[i] for i in keys]) @ query
    return [keys[n] for n in np.argsort(-scores, kind="stable")[:k]]


def stored(state: dict[bytes, np.ndarray]) -> StoredVectors:
    """``state`` (as it is when read) as a table's stored vectors: by id, or all in key order."""

    def scan() -> list[tuple[list[bytes], np.ndarray]]:
        keys = sorted(state)
        return [(keys, np.vstack([state[i] for i in keys]))] if keys else []

    return StoredVectors(lambda ids: [state.get(i) for i in ids], scan)
