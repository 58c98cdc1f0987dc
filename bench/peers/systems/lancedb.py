"""LanceDB (embedded, ``lancedb.connect(dir)``): one table written from Arrow in one call, then an
``IVF_HNSW_SQ`` index with one partition (a single HNSW graph over scalar-quantised vectors, the nearest
equivalent of the common parameters), a BTREE index on ``id`` and a BITMAP index on ``category``; searches
pass ``ef``. Rows added after the index are scanned exactly until an ``optimize()`` (not called)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, EF_SEARCH, M, System

TABLE = "peer_docs"


class LanceSystem(System):
    name = "LanceDB"
    index_note = f"IVF_HNSW_SQ, 1 partition, m={M}, ef_construction={EF_CONSTRUCTION}, ef={EF_SEARCH}, cosine"

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        import lancedb

        self.db = lancedb.connect(str(self.path))
        self.table = self.db.create_table(TABLE, data=self._arrow(rows, vectors))
        self.table.create_index(metric="cosine", index_type="IVF_HNSW_SQ", num_partitions=1, m=M,
                                ef_construction=EF_CONSTRUCTION)
        self.table.create_scalar_index("id", index_type="BTREE")
        self.table.create_scalar_index("category", index_type="BITMAP")

    def _arrow(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> Any:
        import pyarrow as pa

        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
        return pa.table({
            "id": pa.array([r["id"] for r in rows]), "body": pa.array([r["body"] for r in rows]),
            "category": pa.array([r["category"] for r in rows]),
            "year": pa.array([r["year"] for r in rows], type=pa.int32()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, self.dim)})

    def open(self) -> None:
        import lancedb

        self.db = lancedb.connect(str(self.path))
        self.table = self.db.open_table(TABLE)

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        q = self.table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine").ef(EF_SEARCH).limit(k)
        if category is not None:
            q = q.where(f"category = '{category}'", prefilter=True)
        return q.select(["id"]).to_arrow().column("id").to_pylist()

    def get(self, doc_id: str) -> dict[str, Any]:
        rows = self.table.search().where(f"id = '{doc_id}'").select(["id", "body", "category", "year"]) \
            .limit(1).to_list()
        return rows[0]

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        self.table.add(self._arrow([row], np.asarray(vector, dtype=np.float32).reshape(1, -1)))

    def close(self) -> None:
        self.table = None
        self.db = None


System = LanceSystem
