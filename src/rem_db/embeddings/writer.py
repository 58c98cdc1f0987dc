"""Embedding on the write path (SPEC §6): entities of tables with ``embedding_fields`` get their vectors
(and BM25 postings) in the same atomic batch as the entity; unchanged text is not embedded again.

The slow part — the provider call — runs before the engine takes its write lock. ``async_embeddings``
writes the entity at once and embeds it in the background worker. Vectors the caller computed
(``insert_batch(..., vectors=...)``, checked by :mod:`.precomputed`) replace the provider call for the
table's provider; the first vectors a table gets, computed or given, fix its dimension.
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
from ..schema.model import HnswSettings, TableSchema
from ..schema.validation import RowRef
from ..storage.batch import Batch
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
    #: vectors the caller gave for the table's provider (id -> unit float32 row), written instead of embedding
    given: dict[bytes, np.ndarray] = field(default_factory=dict)


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
        indexes.params_of = self.index_params  # each table's index is built with its schema's hnsw setting

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

    def dimensions(self, table: str) -> int | None:
        """The dimension of the table's vectors (fixed by the first ones it got), or None before any."""
        recorded = self.recorded(table)
        return int(recorded["dimensions"]) if recorded else None

    def index_params(self, table: str) -> HnswSettings:
        """The table's ``hnsw`` schema setting (what its vector index is built and searched with)."""
        return self.engine.schema_of(table).hnsw if self.engine is not None else HnswSettings()

    def text_mismatch(self, schema: TableSchema, spec: str) -> str | None:
        """Why the table's provider cannot embed text for it (its vectors were given with another
        dimension than the provider's), or None when it can."""
        dims = self.dimensions(schema.short_name)
        if dims is None:
            return None
        made = self.providers.get(spec).dimensions
        if made == dims:
            return None
        return (f"table {schema.short_name!r} holds {dims}-d vectors given with vectors=, but its provider {spec} "
                f"makes {made}-d vectors")

    def _check_embeddable(self, schema: TableSchema, spec: str) -> None:
        why = self.text_mismatch(schema, spec)
        if why is not None:
            fields = ", ".join(schema.embedding_fields)
            raise EmbeddingError(f"{why}: give the vectors of rows whose embedding fields ({fields}) are new or "
                                 f"change (insert(..., vector=...), insert_batch(..., vectors=...))")

    def index_settings_changed(self, old: TableSchema, new: TableSchema) -> None:
        """A re-registration changed the table's ``hnsw`` setting: a new ``m`` or ``ef_construction`` rebuilds
        its index from the stored vectors (in the background; searches are exact meanwhile), a new
        ``ef_search`` applies to the next search."""
        recorded = self.recorded(new.short_name)
        if recorded is None or not new.embedding_fields or old.hnsw == new.hnsw:
            return
        self.indexes.retune(new.short_name, recorded["provider"], int(recorded["dimensions"]),
                            rebuild=old.hnsw.build != new.hnsw.build)

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
                before: dict[bytes, dict[str, Any] | None], mode: str = "sync", progress: Any = None,
                given: dict[bytes, np.ndarray] | None = None) -> EmbedPlan:
        """Embed the texts that changed (outside the write lock). ``final_users``: id -> new user fields;
        ``mode``: ``sync`` (embed now), ``async`` (embed after commit in the worker), ``lazy`` (not now);
        ``given``: id -> the caller's vector for the table's provider (those rows are not embedded by it;
        the mode is then ``sync``)."""
        if mode not in ("sync", "async", "lazy"):
            raise ValueError(f"unknown embed mode {mode!r}")
        given = given or {}
        if given:
            mode = "sync"
        fields = schema.embedding_fields
        texts = {i: (text_of(fields, user) or None) for i, user in final_users.items()}
        compared = {i: (text_of(fields, old) or None) if (old := before.get(i)) else None for i in texts}
        specs = self.specs(schema)
        unchanged = [i for i, t in texts.items() if t is not None and t == compared[i]]
        have = dict(zip(unchanged, self.vectors.get_many(schema.short_name, specs[0], unchanged), strict=True))
        need = [i for i, t in texts.items() if t is not None and (t != compared[i] or have.get(i) is None)]
        plan = EmbedPlan(schema, texts, compared, mode, need, given=given)
        if mode == "lazy":
            return plan
        if any(i not in given for i in need):
            self._check_embeddable(schema, specs[0])
        if mode != "sync":
            return plan
        for n, spec in enumerate(specs):
            todo = [i for i in need if i not in given] if n == 0 else need
            if todo:
                matrix = self.embed(self.providers.get(spec), [t for i in todo if (t := texts[i]) is not None],
                                    progress)  # all of them: need has texts only
                plan.embedded[spec] = {i: matrix[k] for k, i in enumerate(todo)}
            else:
                plan.embedded[spec] = {}
        if given:
            plan.embedded[specs[0]].update(given)
        return plan

    def apply(self, batch: Batch, plan: EmbedPlan, before: dict[bytes, dict[str, Any] | None]) -> None:
        """Add the plan's vectors and postings to the batch (caller holds the write lock)."""
        schema, table = plan.schema, plan.schema.short_name
        fields = schema.embedding_fields
        specs = self.specs(schema)
        given = plan.given
        given_dims = self._given_dimensions(table, given)
        removed: list[bytes] = []
        removed_alt: list[bytes] = []  # rows with a given vector whose text became empty: only the alt goes
        docs: list[tuple[bytes, str | None, str | None]] = []  # (id16, old text, new text) for the postings
        for id16, text in plan.texts.items():
            old = before.get(id16)
            old_text = (text_of(fields, old) or None) if old else None
            if old_text != plan.compared[id16] and text is not None and plan.mode == "sync":
                # another writer changed the text since prepare(): embed this one now, under the lock
                for spec in specs if id16 not in given else specs[1:]:
                    if spec == specs[0]:
                        self._check_embeddable(schema, spec)
                    plan.embedded.setdefault(spec, {})[id16] = self.embed(self.providers.get(spec), [text])[0]
            docs.append((id16, old_text, text))
            stale = text is None and old_text is not None
            if stale and id16 in given:
                for spec in specs[1:]:
                    self.vectors.delete(batch, table, spec, id16)
                removed_alt.append(id16)
            elif stale or (plan.mode == "lazy" and id16 in plan.need and old is not None):
                for spec in specs:
                    self.vectors.delete(batch, table, spec, id16)
                removed.append(id16)
        self.fulltext.write_many(batch, table, docs)
        for spec, vectors in plan.embedded.items():
            for id16, vector in vectors.items():
                self.vectors.put(batch, table, spec, id16, vector)
        if plan.mode != "lazy":
            self._record(batch, table, specs[0], given_dims)
        self._after_commit(batch, schema, specs, plan.embedded, removed)
        if removed_alt and len(specs) > 1:
            self._after_commit(batch, schema, specs[1:], {}, removed_alt)
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

    def _given_dimensions(self, table: str, given: dict[bytes, np.ndarray]) -> int | None:
        """The dimension of the given vectors, checked again under the write lock (another writer may have
        given the table its first vectors since they were checked)."""
        if not given:
            return None
        dims = len(next(iter(given.values())))
        expected = self.dimensions(table)
        if expected is not None and dims != expected:
            raise RowRef(table).error(f"the vectors have {dims} dimensions, expected {expected} (the table's "
                                      f"vectors have {expected} dimensions)", "vector")
        return dims

    def _record(self, batch: Batch, table: str, spec: str, dims: int | None = None) -> None:
        """Record the table's provider and dimension with its first vectors (``dims``: of given vectors)."""
        if self.recorded(table) is None:
            dims = dims if dims is not None else self.providers.get(spec).dimensions
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
                ids = list(vectors)
                matrix = np.asarray(list(vectors.values()), dtype=np.float32)  # (2x cheaper than vstack)
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
        if texts:
            self._check_embeddable(schema, specs[0])
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
