"""The composition root: builds every part of one open database once and hands each only the collaborators
it needs (docs/architecture.md).

:class:`Core` is what :class:`~rem_db.Database` delegates to. Nothing below it receives the Core or the
Database: the query engine gets :class:`~rem_db.query.ports.QuerySources`, the search engine its schemas,
entities, embedder, indexes and a filter compiler, and so on. The query engine and the graph service are
built on first use, so opening a database stays cheap.
"""

from __future__ import annotations

import atexit
import functools
import logging
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Settings
from .crypto.unlock import read_header, unlock
from .embeddings.providers import EmbeddingProviders
from .embeddings.writer import EmbeddingWriter
from .entities.engine import EntityEngine
from .entities.group import purge_hidden
from .index.bm25 import FullTextIndex
from .index.vector_store import VectorStore
from .index.vectors import VectorIndexes, check_ahead
from .replication.retention import WalRetention
from .schema.registry import SchemaRegistry
from .search.engine import SearchEngine
from .storage.keyspace import Keyspace
from .storage.kv import IdentityCodec, ValueCodec
from .storage.store import Store
from .worker import BackgroundWorker

if TYPE_CHECKING:  # built on first use, so opening a database does not import them
    from .dream.service import DreamService
    from .export.sources import ExportSources
    from .graph.service import Graph
    from .ingest.sources import IngestSources
    from .llm.ask import AskService
    from .query.engine import QueryEngine
    from .replication.stats import StatsSources


def open_store(path: Path, settings: Settings, read_only: bool, codec: ValueCodec | None = None) -> Store:
    """The store of a directory, with the identity codec until :func:`build_core` has read whether the
    database is encrypted."""
    return Store(path, read_only=read_only, settings=settings, codec=codec or IdentityCodec())


log = logging.getLogger("rem_db")


@dataclass(eq=False)  # identity hashing: open cores are kept in a WeakSet
class Core:
    """Every service of one open (directory, tenant), built once by :func:`build_core`."""

    path: Path
    tenant: str
    read_only: bool
    settings: Settings
    store: Store
    keyspace: Keyspace
    schemas: SchemaRegistry
    entities: EntityEngine
    worker: BackgroundWorker
    vectors: VectorStore
    indexes: VectorIndexes
    embedder: EmbeddingWriter
    encrypted: bool = False
    retention: WalRetention | None = None  # trims the WAL (read-write opens only)

    @functools.cached_property
    def search(self) -> SearchEngine:
        return SearchEngine(self.schemas, self.entities, self.embedder, self.indexes, self.compile_filter)

    @functools.cached_property
    def graph(self) -> Graph:
        from .graph.service import Graph

        return Graph(self.entities, self.schemas)

    @functools.cached_property
    def queries(self) -> QueryEngine:
        from .query.engine import QueryEngine
        from .query.ports import QuerySources

        return QueryEngine(QuerySources(self.schemas, self.entities, _Forms(self)))

    @functools.cached_property
    def ask(self) -> AskService:
        from .llm.ask import AskService, AskSources

        return AskService(AskSources(self.schemas, self.entities, lambda: self.queries, self.embedder.providers,
                                     self.settings))

    @functools.cached_property
    def dream(self) -> DreamService:
        from .dream.service import DreamService, DreamSources

        return DreamService(DreamSources(self.schemas, self.entities, self.settings, self.tenant))

    def compile_filter(self, table: str, where: str, params: Any) -> Any:
        return self.queries.filter(table, where, params)

    def close(self) -> None:
        """Drain the background worker, save the vector indexes, flush and release the directory.

        RocksDB is closed and the directory released (HOLDER file, RocksDB LOCK) even when saving an index
        or flushing fails; that failure is raised afterwards as a :class:`~rem_db.StorageError`. An index
        that was not saved is caught up from the WAL, or rebuilt from the stored vectors, on the next open.
        """
        if self not in _open_cores:
            return
        _open_cores.discard(self)
        try:
            self.indexes.cancel_rebuilds()
            self.entities.hidden.closing.set()  # a background purge stops; the next open goes on with it
            if self.retention is not None:
                self.retention.stop()
            self.worker.shutdown()
            self.indexes.save_all()
        finally:
            try:
                self.store.flush()
            finally:
                self.store.close()

    def export_sources(self) -> ExportSources:
        """What :func:`rem_db.export.export` reads: tables, rows, vectors, the ``where`` compiler."""
        from .export.sources import ExportSources

        # row_group_size stays None: P8_EXPORT_ROW_GROUP_SIZE is read when each export starts, as before
        return ExportSources(self.schemas, self.entities, self.vectors, self.embedder.recorded,
                             self.compile_filter, self.embedder.providers, self.path, self.tenant)

    def stats_sources(self) -> StatsSources:
        """What :func:`rem_db.replication.stats.collect_stats` reads."""
        from .replication.stats import StatsSources

        return StatsSources(self.path, self.tenant, self.read_only, self.encrypted, self.settings, self.store,
                            [s.short_name for s in self.schemas.all()], self.entities.fields.count_table,
                            self.embedder.recorded, self.vectors, self.indexes)

    def ingest_sources(self) -> IngestSources:
        """What an :class:`~rem_db.ingest.pipeline.Ingestor` writes through."""
        from .ingest.sources import IngestSources

        return IngestSources(self.entities, self.schemas, self.path)


class _Forms:
    """The REM forms' backend (LOOKUP, SEARCH, TRAVERSE) over the core's own services."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def lookup_batch(self, keys: list[str], include_deleted: bool = False) -> dict[str, list[dict[str, Any]]]:
        return self._core.entities.lookup_batch(keys, include_deleted)

    def search(self, query: str, schema: str | None = None, top_k: int = 10, where: str | None = None,
               hybrid: bool = False, include_deleted: bool = False,
               params: Any = None) -> list[tuple[dict[str, Any], float]]:
        return self._core.search.search(query, schema, top_k, where, hybrid, include_deleted, params)

    def traverse(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                 strategy: str = "bfs", limit: int | None = None,
                 include_deleted: bool = False) -> list[dict[str, Any]]:
        return self._core.graph.traverse(start, depth, direction, rel_type, strategy, limit, include_deleted)


def build_core(path: Path, tenant: str, read_only: bool, settings: Settings,
               codec: ValueCodec | None = None, password: str | None = None) -> Core:
    """Open the store and build every service on it; on any failure the store is closed again.

    With ``password`` (or ``settings.password``) the database is encrypted (made so when it is new) and its
    values pass through the cipher; ``codec`` is an explicit codec for tests of the seam."""
    check_ahead(path, tenant)  # the index files are hashed while the store opens
    store = open_store(path, settings, read_only, codec)
    worker: BackgroundWorker | None = None
    try:
        password = password if password is not None else settings.password
        if store.replica and password is not None and read_header(store) is None:
            password = None  # a replica's header arrives from its primary (docs/replication.md)
        unlocked = unlock(store, password, settings.home)
        if unlocked is not None:
            store.use_codec(unlocked.codec)
        keyspace = Keyspace(tenant, unlocked.term_encoder if unlocked is not None else None)
        schemas = SchemaRegistry()
        entities = EntityEngine(store, keyspace, schemas.get)
        worker = BackgroundWorker()
        vectors = VectorStore(store, keyspace)
        indexes = VectorIndexes(store.path, tenant, vectors, worker, read_only)
        embedder = EmbeddingWriter(vectors, FullTextIndex(store, keyspace), indexes, EmbeddingProviders(settings))
        embedder.engine = entities
        entities.embedder = embedder
        schemas.load(entities, read_only or store.replica)  # a replica gets its built-ins from the primary
        core = Core(store.path, tenant, read_only, settings, store, keyspace, schemas, entities, worker, vectors,
                    indexes, embedder, encrypted=unlocked is not None)
        _open_cores.add(core)
        _load_vector_indexes(core)
        # rows of ingests a crash interrupted (docs/ingest.md); a replica gets their purge from its primary
        if entities.hidden and not read_only and not store.replica:
            worker.submit(purge_hidden, entities)
        if not read_only:
            core.retention = WalRetention(store, settings, worker)
            core.retention.start()
        return core
    except BaseException:
        if worker is not None:
            worker.shutdown()
        store.close()
        raise


def _load_vector_indexes(core: Core) -> None:
    """Start loading every stored index in the background; searches wait for theirs."""
    for schema in core.schemas.all():
        recorded = core.embedder.recorded(schema.short_name) if schema.embedding_fields else None
        if recorded:
            core.indexes.handle(schema.short_name, recorded["provider"], recorded["dimensions"])


#: every core not closed yet, closed at interpreter exit: the worker joins before the embedding model's and
#: RocksDB's native threads are torn down (otherwise the process can abort at exit with "terminate called
#: without an active exception"), and the indexes are saved
_open_cores: weakref.WeakSet[Core] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for core in list(_open_cores):
        try:
            core.close()
        except Exception as exc:  # nothing left to report it to but the log
            log.error("closing %s at exit failed: %s", core.path, exc)
