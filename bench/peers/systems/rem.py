"""REM through its public API only: ``insert_batch(vectors=)``, ``insert(vector=)``, ``search(vector=, ef=,
where=)``, ``lookup``/``get`` and a reopen with ``Database(path)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rem_db import Database

from .base import EF_CONSTRUCTION, EF_SEARCH, M, System

TABLE = "peer_docs"
SCHEMA = {
    "title": TABLE,
    "description": "Rows of the peers benchmark.",
    "type": "object",
    "properties": {"doc_id": {"type": "string"}, "body": {"type": "string"}, "category": {"type": "string"},
                   "year": {"type": "integer"}},
    "key_field": "doc_id",
    "indexed_fields": ["category", "year"],
    "embedding_fields": ["body"],
    "hnsw": {"m": M, "ef_construction": EF_CONSTRUCTION, "ef_search": EF_SEARCH},
}
BATCH = 10_000


class RemSystem(System):
    name = "REM"
    index_note = f"HNSW m={M}, ef_construction={EF_CONSTRUCTION}, ef={EF_SEARCH} (schema `hnsw`)"

    db: Database

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        self.db = Database(self.path)
        self.db.register_schema(SCHEMA)
        self.ids: dict[str, Any] = {}
        for start in range(0, len(rows), BATCH):
            chunk = [_row(r) for r in rows[start:start + BATCH]]
            written = self.db.insert_batch(TABLE, chunk, vectors=vectors[start:start + BATCH])
            self.ids.update((e["doc_id"], e["id"]) for e in written)

    def wait_indexed(self) -> None:
        self.db.wait_idle()  # the worker moves the pending tail into the HNSW graph, then saves it

    def open(self) -> None:
        self.db = Database(self.path)

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        where = f"category = '{category}'" if category is not None else None
        hits = self.db.search(vector=vector, schema=TABLE, top_k=k, where=where, ef=max(EF_SEARCH, k))
        return [entity["doc_id"] for entity, _ in hits]

    def get(self, doc_id: str) -> dict[str, Any]:
        return self.db.get(self.ids[doc_id])  # the ids insert_batch returned

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        self.ids[row["id"]] = self.db.insert(TABLE, _row(row), vector=vector)["id"]

    def close(self) -> None:
        self.db.close()


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {"doc_id": row["id"], "body": row["body"], "category": row["category"], "year": row["year"]}


System = RemSystem
