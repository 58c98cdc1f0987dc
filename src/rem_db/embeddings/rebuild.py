"""`rem index rebuild TABLE` / ``Database.rebuild_index``: re-embed a table with its current provider."""

from __future__ import annotations

from ..errors import QueryError
from ..schema.model import TableSchema
from ..worker import BackgroundWorker
from .vectors import text_of
from .writer import EmbeddingWriter

CHUNK = 500


def rebuild_table_vectors(schema: TableSchema, embedder: EmbeddingWriter, worker: BackgroundWorker) -> int:
    """Embed every live row with the table's configured provider, drop vectors of any previous provider,
    and rebuild the HNSW index from scratch. One atomic batch per chunk of rows."""
    table = schema.short_name
    if not schema.embedding_fields:
        raise QueryError(f"table {table!r} has no embedding fields")
    engine, store = embedder.engine, embedder.vectors
    assert engine is not None
    spec = embedder.providers.resolve_spec(schema.embedding_provider)
    previous = embedder.recorded(table)
    old_spec = previous["provider"] if previous else None
    provider = embedder.providers.get(spec)
    ids = list(engine.fields.table_ids(table, include_deleted=True))
    done = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        records = dict(zip(chunk, engine.get_many(chunk), strict=True))
        texts = {i: text_of(schema.embedding_fields, r) for i, r in records.items() if r is not None}
        texts = {i: t for i, t in texts.items() if t}
        matrix = embedder.embed(provider, list(texts.values())) if texts else None
        with engine.lock:
            batch = engine.store.batch()
            if matrix is not None:  # None: no texts in this chunk
                for n, id16 in enumerate(texts):
                    store.put(batch, table, spec, id16, matrix[n])
            if old_spec and old_spec != spec:
                for id16 in chunk:
                    store.delete(batch, table, old_spec, id16)
            store.record(batch, table, spec, provider.dimensions)
            engine.commit(batch)
        done += len(texts)
    embedder._recorded.pop(table, None)
    worker.wait_idle()
    for old in {s for s in (old_spec, spec) if s is not None}:
        embedder.indexes.drop(table, old)
    if done:
        embedder.indexes.handle(table, spec, provider.dimensions)
    return done
