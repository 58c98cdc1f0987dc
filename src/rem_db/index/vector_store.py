"""Vectors in the ``embeddings`` column family: raw little-endian float32, keyed
``tenant · table · provider spec · id`` so a table's vectors for one provider are one contiguous range
(what index rebuilds scan), and ``meta`` records which provider and dimension each table was embedded with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson

from ..storage.batch import Batch
from ..storage.keyspace import Keyspace, prefix_range
from ..storage.store import Store

CF = "embeddings"
META = "meta"
_LE_F32 = np.dtype("<f4")


class VectorStore:
    """Reads and writes one tenant's vectors."""

    def __init__(self, store: Store, keyspace: Keyspace) -> None:
        self.store = store
        self.ks = keyspace

    def prefix(self, table: str, spec: str) -> bytes:
        return self.ks.vector_prefix(table, spec)

    def key(self, table: str, spec: str, id16: bytes) -> bytes:
        return self.ks.vector(table, spec, id16)

    def put(self, batch: Batch, table: str, spec: str, id16: bytes, vector: np.ndarray) -> None:
        batch.put(CF, self.key(table, spec, id16), np.asarray(vector, dtype=_LE_F32).tobytes())

    def delete(self, batch: Batch, table: str, spec: str, id16: bytes) -> None:
        batch.delete(CF, self.key(table, spec, id16))

    def get_many(self, table: str, spec: str, ids: list[bytes]) -> list[np.ndarray | None]:
        prefix = self.prefix(table, spec)
        raws = self.store.multi_get(CF, [prefix + i for i in ids])
        return [np.frombuffer(r, dtype=_LE_F32) if r is not None else None for r in raws]

    def scan(self, table: str, spec: str, chunk: int = 4096) -> Iterator[tuple[list[bytes], np.ndarray]]:
        """All vectors of a table for one provider, in chunks of (ids, matrix)."""
        ids: list[bytes] = []
        raws: list[bytes] = []
        for key, value in self.store.items(CF, *prefix_range(self.prefix(table, spec))):
            ids.append(key[-16:])
            raws.append(value)
            if len(ids) >= chunk:
                yield ids, np.frombuffer(b"".join(raws), dtype=_LE_F32).reshape(len(ids), -1)
                ids, raws = [], []
        if ids:
            yield ids, np.frombuffer(b"".join(raws), dtype=_LE_F32).reshape(len(ids), -1)

    def count(self, table: str, spec: str) -> int:
        return self.store.count(CF, *prefix_range(self.prefix(table, spec)))

    # -- which provider a table was embedded with -------------------------------------------------------
    def _meta_key(self, table: str) -> bytes:
        return self.ks.embedding_meta(table)

    def recorded(self, table: str) -> dict[str, Any] | None:
        raw = self.store.get(META, self._meta_key(table))
        return orjson.loads(raw) if raw else None

    def forget(self, batch: Batch, table: str) -> None:
        batch.delete(META, self._meta_key(table))

    def record(self, batch: Batch, table: str, spec: str, dimensions: int) -> None:
        batch.put(META, self._meta_key(table), orjson.dumps({"provider": spec, "dimensions": dimensions}))
