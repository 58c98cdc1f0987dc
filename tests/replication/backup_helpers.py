"""Helpers of the backup, retention and stats tests (imported as ``backup_helpers``): a deterministic
bag-of-words embedding provider (no model to load) and ways to read a whole database for comparisons."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from rem_db import Database
from rem_db.embeddings.interface import normalise
from rem_db.embeddings.registry import register_provider, unregister_provider

PREFIX = "bkhash"
SPEC = f"{PREFIX}:32"

NOTES: dict[str, Any] = {
    "title": "notes", "type": "object", "description": "Short notes, embedded for search.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["key", "body"], "key_field": "key", "embedding_fields": ["body"], "indexed_fields": ["n"],
    "embedding_provider": SPEC,
}
WORDS = ["volcano", "bread", "chess", "honey", "train", "glacier", "violin", "orchard", "comet", "harbour",
         "lantern", "desert", "falcon", "quarry", "meadow", "reef", "tundra", "canyon", "marble", "saffron"]


class HashingProvider:
    """Each word adds one to the dimension its hash picks; rows are L2-normalised."""

    def __init__(self, model: str) -> None:
        self.spec = f"{PREFIX}:{model}"
        self.dimensions = int(model)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest()) % self.dimensions] += 1
        return normalise(out)


@contextmanager
def hashing_provider() -> Iterator[None]:
    register_provider(PREFIX, lambda model, settings: HashingProvider(model), replace=True)
    try:
        yield
    finally:
        unregister_provider(PREFIX)


def note(n: int) -> dict[str, Any]:
    a, b, c = WORDS[n % 20], WORDS[(n * 7 + 3) % 20], WORDS[(n * 11 + 5) % 20]
    return {"key": f"n{n}", "body": f"{a} {b} {c} note {n}", "n": n}


def rows_by_id(db: Database, table: str = "notes") -> dict[str, dict[str, Any]]:
    """Every row of a table (soft-deleted ones too) with its vector and its outgoing edges."""
    out = {}
    for row in db.rows(table, include_deleted=True):
        full = db.get(row["id"], include_deleted=True, include_embeddings=True)
        full["_edges"] = sorted((e["dst"], e["rel_type"]) for e in db.edges(row["id"]))
        out[str(row["id"])] = full
    return out


def exact_top(db: Database, query: str, k: int, table: str = "notes") -> list[str]:
    """The ids of the ``k`` rows nearest ``query`` by brute force over the stored vectors (ties by id)."""
    q = HashingProvider(SPEC.split(":")[1]).embed_batch([query])[0]
    scored = []
    for row in db.rows(table):
        vector = np.asarray(db.get(row["id"], include_embeddings=True)["embedding"], dtype=np.float32)
        scored.append((-round(float(vector @ q), 5), str(row["id"])))
    return [i for _, i in sorted(scored)[:k]]
