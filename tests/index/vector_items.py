"""The `items` table of the vector API tests (vectors computed elsewhere, given with the rows) and unit()."""

from __future__ import annotations

from typing import Any

import numpy as np

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
