"""Chroma (``chromadb.PersistentClient``, embedded): one collection, cosine HNSW with the common parameters
(``max_neighbors`` is M), rows added in the client's largest batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, EF_SEARCH, M, System

COLLECTION = "peer_docs"


class ChromaSystem(System):
    name = "Chroma"
    index_note = f"HNSW max_neighbors={M}, ef_construction={EF_CONSTRUCTION}, ef_search={EF_SEARCH}, cosine"

    def _client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(path=str(self.path), settings=Settings(anonymized_telemetry=False))

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        self.client = self._client()
        self.coll = self.client.create_collection(
            COLLECTION, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "max_neighbors": M, "ef_construction": EF_CONSTRUCTION,
                                    "ef_search": EF_SEARCH}})
        batch = min(self.client.get_max_batch_size(), 5_000)
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            self.coll.add(ids=[r["id"] for r in chunk], embeddings=vectors[start:start + batch],
                          documents=[r["body"] for r in chunk],
                          metadatas=[{"category": r["category"], "year": r["year"]} for r in chunk])

    def open(self) -> None:
        self.client = self._client()
        self.coll = self.client.get_collection(COLLECTION, embedding_function=None)

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        where = {"category": category} if category is not None else None
        out = self.coll.query(query_embeddings=[vector], n_results=k, where=where, include=[])
        return list(out["ids"][0])

    def get(self, doc_id: str) -> dict[str, Any]:
        out = self.coll.get(ids=[doc_id], include=["documents", "metadatas"])
        return {"id": out["ids"][0], "body": out["documents"][0], **out["metadatas"][0]}

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        self.coll.add(ids=[row["id"]], embeddings=[vector], documents=[row["body"]],
                      metadatas=[{"category": row["category"], "year": row["year"]}])

    def close(self) -> None:
        self.coll = None
        self.client = None


System = ChromaSystem
