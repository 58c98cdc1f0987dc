"""Embedding on the write path (SPEC §6): entities of tables with ``embedding_fields`` get their vectors
(and BM25 postings) in the same atomic batch as the entity; unchanged text is not embedded again.

The slow part — the provider call — runs before the engine takes its write lock. ``async_embeddings``
writes the entity at once and embeds it in the background worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, EmbeddingError
from ..index.bm25 import FullTextIndex
from ..index.vector_store import VectorStore
from ..index.vectors import VectorIndexes
from ..schema.model import TableSchema
from ..storage.store import Batch
from .interface import EmbeddingProvider
from .providers import EmbeddingProviders
from .vectors import text_of

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

log = logging.getLogger("rem_db.embeddings")


@dataclass
class EmbedPlan:
    """What one write does to vectors and postings, prepared before the write lock is taken."""

    schema: TableSchema
    texts: dict[bytes, str | None]
    compared: dict[bytes, str | None]
    mode: str = "sync"
    need: list[bytes] = field(default_factory=list)
    embedded: dict[str, dict[bytes, np.ndarray]] = field(default_factory=dict)


class EmbeddingWriter:
    """Computes and writes vectors and postings for one tenant's tables."""

    def __init__(self, vectors: VectorStore, fulltext: FullTextIndex, indexes: VectorIndexes,
                 providers: EmbeddingProviders | None = None) -> None:
        self.providers = providers or EmbeddingProviders.from_env()
        self.vectors = vectors
        self.fulltext = fulltext
        self.indexes = indexes
        self.engine: EntityEngine | None = None
        self._recorded: dict[str, dict[str, Any] | None] = {}

    # -- providers --------------------------------------------------------------------------------------
    def primary_spec(self, schema: TableSchema) -> str:
        """The provider spec the table's vectors must come from; a different recorded one is an error."""
        spec = self.providers.resolve_spec(schema.embedding_provider)
        recorded = self.recorded(schema.short_name)
        if recorded is not None and recorded["provider"] != spec:
            raise EmbeddingError(
                f"table {schema.short_name!r} was embedded with {recorded['provider']} "
                f"({recorded['dimensions']}-d) but its provider is now {spec}; run `rem index rebuild "
                f"{schema.short_name}` (Database.rebuild_index) to re-embed it with {spec}")
        return spec

    def specs(self, schema: TableSchema) -> list[str]:
        primary = self.primary_spec(schema)
        alt = self.providers.alt_spec
        second = self.providers.resolve_spec(alt) if alt else None
        return [primary] + ([second] if second and second != primary else [])

    def recorded(self, table: str) -> dict[str, Any] | None:
        if table not in self._recorded:
            self._recorded[table] = self.vectors.recorded(table)
        return self._recorded[table]

    def embed(self, provider: EmbeddingProvider, texts: list[str], progress: Any = None) -> np.ndarray:
        """One provider call per ``P8_EMBEDDING_BATCH_SIZE`` texts; ``progress(done, total)`` after each."""
        size = self.providers.batch_size
        parts = []
        for start in range(0, len(texts), size):
            parts.append(provider.embed_batch(texts[start:start + size]))
            if progress is not None:
                progress(min(start + size, len(texts)), len(texts))
        out = np.vstack(parts) if parts else np.zeros((0, provider.dimensions), dtype=np.float32)
        if out.shape != (len(texts), provider.dimensions):
            raise EmbeddingError(f"{provider.spec} returned {out.shape[0]} x {out.shape[1]} vectors for "
                                 f"{len(texts)} texts of {provider.dimensions} dimensions")
        return out

    # -- write path -------------------------------------------------------------------------------------
    def prepare(self, schema: TableSchema, final_users: dict[bytes, dict[str, Any]],
                before: dict[bytes, dict[str, Any] | None], mode: str = "sync", progress: Any = None) -> EmbedPlan:
        """Embed the texts that changed (outside the write lock). ``final_users``: id -> new user fields;
        ``mode``: ``sync`` (embed now), ``async`` (embed after commit in the worker), ``lazy`` (not now)."""
        if mode not in ("sync", "async", "lazy"):
            raise ValueError(f"unknown embed mode {mode!r}")
        fields = schema.embedding_fields
        texts = {i: (text_of(fields, user) or None) for i, user in final_users.items()}
        compared = {i: (text_of(fields, old) or None) if (old := before.get(i)) else None for i in texts}
        specs = self.specs(schema)
        unchanged = [i for i, t in texts.items() if t is not None and t == compared[i]]
        have = dict(zip(unchanged, self.vectors.get_many(schema.short_name, specs[0], unchanged), strict=True))
        need = [i for i, t in texts.items() if t is not None and (t != compared[i] or have.get(i) is None)]
        plan = EmbedPlan(schema, texts, compared, mode, need)
        if mode != "sync":
            return plan
        need_texts = [t for i in need if (t := texts[i]) is not None]  # all of them: need has texts only
        for spec in specs:
            if need:
                matrix = self.embed(self.providers.get(spec), need_texts, progress)
                plan.embedded[spec] = {i: matrix[n] for n, i in enumerate(need)}
            else:
                plan.embedded[spec] = {}
        return plan

    def apply(self, batch: Batch, plan: EmbedPlan, before: dict[bytes, dict[str, Any] | None]) -> None:
        """Add the plan's vectors and postings to the batch (caller holds the write lock)."""
        schema, table = plan.schema, plan.schema.short_name
        fields = schema.embedding_fields
        specs = self.specs(schema)
        removed: list[bytes] = []
        for id16, text in plan.texts.items():
            old = before.get(id16)
            old_text = (text_of(fields, old) or None) if old else None
            if old_text != plan.compared[id16] and text is not None and plan.mode == "sync":
                # another writer changed the text since prepare(): embed this one now, under the lock
                for spec in specs:
                    plan.embedded.setdefault(spec, {})[id16] = self.embed(self.providers.get(spec), [text])[0]
            self.fulltext.write(batch, table, id16, old_text, text)
            stale = text is None and old_text is not None
            if stale or (plan.mode == "lazy" and id16 in plan.need and old is not None):
                for spec in specs:
                    self.vectors.delete(batch, table, spec, id16)
                removed.append(id16)
        for spec, vectors in plan.embedded.items():
            for id16, vector in vectors.items():
                self.vectors.put(batch, table, spec, id16, vector)
        if plan.mode != "lazy":
            self._record(batch, table, specs[0])
        self._after_commit(batch, schema, specs, plan.embedded, removed)
        if plan.mode == "async" and plan.need:
            ids = list(plan.need)
            batch.on_commit.append(lambda seq: self._submit_later(table, ids))

    def stored_specs(self, schema: TableSchema) -> list[str]:
        """Every provider a table may hold vectors of (recorded, configured, alternative), never raising:
        deletes must work even while the table waits for `rem index rebuild`."""
        recorded = self.recorded(schema.short_name)
        specs = [recorded["provider"]] if recorded else []
        for spec in (schema.embedding_provider or "default", self.providers.alt_spec):
            if spec is None:
                continue
            try:
                resolved = self.providers.resolve_spec(spec)
            except ConfigError:  # an unusable setting: nothing can have been stored under it
                continue
            if resolved not in specs:
                specs.append(resolved)
        return specs

    def vectors_of(self, schema: TableSchema, id16: bytes) -> dict[str, Any]:
        """``embedding`` / ``embedding_alt`` of one entity as lists of floats (for include_embeddings)."""
        if not schema.embedding_fields:
            return {}
        out: dict[str, Any] = {}
        primary = self.recorded(schema.short_name)
        alt = self.providers.alt_spec
        for name, spec in (("embedding", primary["provider"] if primary else None),
                           ("embedding_alt", self.providers.resolve_spec(alt) if alt else None)):
            if spec:
                vector = self.vectors.get_many(schema.short_name, spec, [id16])[0]
                out[name] = vector.tolist() if vector is not None else None
        return out

    def drop_table(self, table: str) -> None:
        """Forget a dropped table's recorded provider, BM25 totals and index files."""
        recorded = self.recorded(table)
        batch = self.vectors.store.batch()
        self.vectors.forget(batch, table)
        self.fulltext.forget(batch, table)
        self.vectors.store.write(batch)
        self._recorded.pop(table, None)
        if recorded:
            self.indexes.drop(table, recorded["provider"])

    def remove(self, batch: Batch, schema: TableSchema, old: dict[str, Any], id16: bytes) -> None:
        """A hard delete: the entity's vectors (every provider) and postings go too."""
        table = schema.short_name
        specs = self.stored_specs(schema)
        for spec in specs:
            self.vectors.delete(batch, table, spec, id16)
        self.fulltext.write(batch, table, id16, text_of(schema.embedding_fields, old) or None, None)
        self._after_commit(batch, schema, specs, {}, [id16])

    def _record(self, batch: Batch, table: str, spec: str) -> None:
        if self.recorded(table) is None:
            dims = self.providers.get(spec).dimensions
            self.vectors.record(batch, table, spec, dims)
            self._recorded[table] = {"provider": spec, "dimensions": dims}

    def _after_commit(self, batch: Batch, schema: TableSchema, specs: list[str],
                      embedded: dict[str, dict[bytes, np.ndarray]], removed: list[bytes]) -> None:
        table = schema.short_name
        recorded = self.recorded(table)
        for spec in specs:
            vectors = embedded.get(spec) or {}
            if not vectors and not removed:
                continue
            if recorded and recorded["provider"] == spec:
                dims = recorded["dimensions"]
            else:
                dims = self.providers.get(spec).dimensions
            if vectors:
                ids, matrix = list(vectors), np.vstack(list(vectors.values()))
                batch.on_commit.append(partial(self.indexes.changed, table, spec, dims, ids=ids, vectors=matrix))
            if removed:
                batch.on_commit.append(partial(self.indexes.changed, table, spec, dims, ids=list(removed),
                                               vectors=None))

    def forget(self) -> None:
        """After a failed write: drop cached state that the batch had already updated."""
        self.fulltext.forget_stats()
        self._recorded.clear()

    # -- background embeddings ---------------------------------------------------------------------------
    def backfill(self, table: str) -> int:
        """Embed rows of ``table`` that have no vector yet, in the background (the ``schemas`` table is
        embedded lazily, at its first search, so registering a schema never loads a model)."""
        engine = self.engine
        if self.indexes.read_only or engine is None:
            return 0
        spec = self.primary_spec(engine.schema_of(table))
        ids = list(engine.fields.table_ids(table, include_deleted=False))
        missing = [i for i, v in zip(ids, self.vectors.get_many(table, spec, ids), strict=True) if v is None]
        return self.embed_later(table, missing) if missing else 0

    def _submit_later(self, table: str, ids: list[bytes]) -> None:
        self.indexes.worker.submit(self.embed_later, table, ids)

    def embed_later(self, table: str, ids: list[bytes]) -> int:
        """Embed entities written with ``async_embeddings=True``; skips ones changed or deleted since."""
        engine = self.engine
        assert engine is not None
        schema = engine.schema_of(table)
        fields = schema.embedding_fields
        records = dict(zip(ids, engine.get_many(ids), strict=True))
        texts = {i: text_of(fields, r) for i, r in records.items() if r is not None and text_of(fields, r)}
        specs = self.specs(schema)
        embedded = {spec: dict(zip(texts, self.embed(self.providers.get(spec), list(texts.values())), strict=True))
                    for spec in specs} if texts else {}
        with engine.lock:
            current = dict(zip(ids, engine.get_many(ids), strict=True))
            keep = [i for i in texts if (row := current.get(i)) is not None and text_of(fields, row) == texts[i]]
            if not keep:
                return 0
            batch = engine.store.batch()
            kept = {spec: {i: vectors[i] for i in keep} for spec, vectors in embedded.items()}
            for spec, vectors in kept.items():
                for id16, vector in vectors.items():
                    self.vectors.put(batch, table, spec, id16, vector)
            self._record(batch, table, specs[0])
            self._after_commit(batch, schema, specs, kept, [])
            engine.commit(batch)
        return len(keep)
