"""Qdrant in local mode (``QdrantClient(path=...)``, no server): the collection is created with HNSW m/ef
and ``hnsw_ef`` is passed per search, but local mode answers every search by an exact numpy scan (its
documented behaviour: it is meant for development and tests). Point ids are the row numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, EF_SEARCH, M, System

COLLECTION = "peer_docs"
BATCH = 1_000


class QdrantSystem(System):
    name = "Qdrant (local)"
    index_note = f"local mode: exact scan (m={M}, ef_construct={EF_CONSTRUCTION}, hnsw_ef={EF_SEARCH} ignored)"

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        from qdrant_client import QdrantClient, models

        self.client = QdrantClient(path=str(self.path))
        self.client.create_collection(
            COLLECTION, vectors_config=models.VectorParams(size=self.dim, distance=models.Distance.COSINE),
            hnsw_config=models.HnswConfigDiff(m=M, ef_construct=EF_CONSTRUCTION))
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            self.client.upsert(COLLECTION, points=models.Batch(
                ids=[_num(r["id"]) for r in chunk], vectors=vectors[start:start + BATCH].tolist(),
                payloads=[dict(r) for r in chunk]))

    def open(self) -> None:
        from qdrant_client import QdrantClient

        self.client = QdrantClient(path=str(self.path))

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        from qdrant_client import models

        flt = None
        if category is not None:
            flt = models.Filter(must=[models.FieldCondition(key="category",
                                                            match=models.MatchValue(value=category))])
        out = self.client.query_points(COLLECTION, query=np.asarray(vector, dtype=np.float32), limit=k,
                                       query_filter=flt, search_params=models.SearchParams(hnsw_ef=EF_SEARCH),
                                       with_payload=["id"])
        return [p.payload["id"] for p in out.points]

    def get(self, doc_id: str) -> dict[str, Any]:
        return dict(self.client.retrieve(COLLECTION, ids=[_num(doc_id)])[0].payload)

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        from qdrant_client import models

        self.client.upsert(COLLECTION, points=[models.PointStruct(id=_num(row["id"]), vector=vector.tolist(),
                                                                  payload=dict(row))])

    def close(self) -> None:
        self.client.close()


def _num(doc_id: str) -> int:
    return int(doc_id.rsplit("-", 1)[1])


System = QdrantSystem
