"""What a replica refreshes in memory after applying records from its primary (docs/replication.md).

Applied records change the store underneath the services of the replica's open database, so every cache
that a commit on a primary would have updated through its ``on_commit`` hooks is brought up to date here:

- the schema registry, when a row of the ``schemas`` table changed (a table registered, re-versioned or
  removed on the primary);
- the vector indexes already loaded: the vectors the records put or deleted are handed over like a local
  commit's (:meth:`~rem_db.index.vectors.VectorIndexes.changed`); indexes loaded later catch up from the WAL
  records the replica stores;
- the full-text totals and the recorded embedding providers (:meth:`EmbeddingWriter.forget`);
- the rows an unfinished ingest keeps hidden, when their ``meta`` keys changed;
- whether the graph's packed adjacency lists are ready (a replica that opened before they arrived);
- the entity engine's generation, which search candidate caches compare.

Counts cached by the query layer compare RocksDB's own sequence number, which moves with an applied batch
like with any write.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..embeddings.writer import EmbeddingWriter
from ..entities.engine import EntityEngine
from ..graph import adjacency
from ..schema.registry import SCHEMAS, SchemaRegistry
from ..storage.codec import encode_str
from ..storage.kv import Op

ENTITIES = "entities"
KEY_INDEX = "key_index"
EMBEDDINGS = "embeddings"
META = "meta"
_SCHEMA_ROW = b'"entity_type":"schemas"'


class ReplicaCaches:
    """Refreshes one open database's in-memory state after :meth:`~rem_db.storage.store.Store.apply_records`."""

    def __init__(self, schemas: SchemaRegistry, entities: EntityEngine, embedder: EmbeddingWriter) -> None:
        self.schemas = schemas
        self.entities = entities
        self.embedder = embedder
        self.ks = entities.ks
        self._schema_table = encode_str(SCHEMAS)
        self._hidden_prefix = self.ks.hidden_rows()

    def refresh(self, applied: Iterable[tuple[int, list[Op]]]) -> None:
        """Bring the caches up to date with the records just applied (in sequence order)."""
        schemas_changed = hidden_changed = False
        touched: dict[tuple[str, str], set[bytes]] = {}
        last = 0
        prefixes = [(key, self.embedder.vectors.prefix(*key)) for key in list(self.embedder.indexes.handles)]
        for seq, ops in applied:
            last = seq
            for cf, key, value in ops:
                if cf == EMBEDDINGS:
                    for name, prefix in prefixes:
                        if key.startswith(prefix):
                            touched.setdefault(name, set()).add(key[-16:])
                elif cf == ENTITIES:
                    schemas_changed = schemas_changed or (value is not None and self._schema_row(key, value))
                elif cf == KEY_INDEX:
                    schemas_changed = schemas_changed or self._schema_key(key)
                elif cf == META:
                    hidden_changed = hidden_changed or key.startswith(self._hidden_prefix)
        if not last:
            return
        if schemas_changed:
            self.schemas.reload(self.entities)
        if hidden_changed:
            self.entities.hidden.reload(self.entities.store, self.ks)
        self.embedder.forget()
        if not self.entities.packed_adjacency:  # the primary's lists are ready once their key arrived
            self.entities.packed_adjacency = adjacency.is_ready(self.entities.store)
        for (table, spec), ids in touched.items():
            self._vectors_changed(table, spec, last, list(ids))
        self.entities.generation += 1

    def _schema_row(self, key: bytes, value: bytes) -> bool:
        if not key.startswith(self.ks.prefix):
            return False
        codec = self.entities.store.codec
        raw = codec.decode(ENTITIES, key, value) if ENTITIES in codec.families else value
        return _SCHEMA_ROW in raw

    def _schema_key(self, key: bytes) -> bool:
        """A key-index entry of the ``schemas`` table (``tenant · name · "schemas" · id``)."""
        end = len(key) - 16
        return key.startswith(self.ks.prefix) and key[end - len(self._schema_table):end] == self._schema_table

    def _vectors_changed(self, table: str, spec: str, seq: int, ids: list[bytes]) -> None:
        indexes, vectors = self.embedder.indexes, self.embedder.vectors
        handle = indexes.handles.get((table, spec))
        if handle is None:
            return
        found = vectors.get_many(table, spec, ids)
        present = [(i, v) for i, v in zip(ids, found, strict=True) if v is not None]
        gone = [i for i, v in zip(ids, found, strict=True) if v is None]
        if gone:
            indexes.changed(table, spec, handle.dimensions, seq, gone, None)
        if present:
            indexes.changed(table, spec, handle.dimensions, seq, [i for i, _ in present],
                            np.vstack([v for _, v in present]))
