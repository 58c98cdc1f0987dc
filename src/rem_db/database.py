"""The :class:`Database` facade: one object per open REM directory and tenant (SPEC §14)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from .config import Settings
from .core import Core, build_core
from .embeddings.rebuild import rebuild_table_vectors
from .entities.ids import parse_id
from .errors import NotFoundError, ReadOnlyError, StorageError, ValidationError
from .schema.loader import load_schema_source
from .schema.model import TableSchema
from .schema.templates import TEMPLATES, template_schema

if TYPE_CHECKING:
    from .entities.stream import JsonlProgress, JsonlResult, JsonlSource
    from .graph.service import Graph
    from .query.engine import QueryEngine
    from .replication.server import ReplicationServer

class Database:
    """An embedded REM database.

    ``Database(path=None, tenant_id=None, read_only=False, password=None)``; ``path`` defaults to
    ``$P8_DB_PATH`` (``$P8_HOME/db``), ``tenant_id`` to ``$P8_TENANT_ID`` (``default``). One process opens
    a directory read-write; others get :class:`~rem_db.LockedError` and may open it ``read_only=True``.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, tenant_id: str | None = None,
                 read_only: bool = False, password: str | None = None, *,
                 sync_writes: bool | None = None) -> None:
        settings = Settings.from_env().replace(sync_writes=sync_writes)
        self.settings = settings
        self.path = Path(path).expanduser() if path is not None else settings.resolved_db_path
        self.tenant_id = tenant_id or settings.tenant_id
        self.read_only = read_only
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create database directory {self.path}: {exc}") from None
        self._password = password  # kept to open again: a replica after its header or a snapshot arrived
        self._core: Core = build_core(self.path, self.tenant_id, read_only, settings, password=password)
        self._bind(self._core)
        self._replication: list[Any] = []  # servers and followers started on this handle, stopped on close
        self._closed = False

    def _bind(self, core: Core) -> None:
        # the parts tests and benches look at; every method below delegates to the core's services
        self._store, self._keyspace, self._engine = core.store, core.keyspace, core.entities
        self._vectors, self._indexes, self._embedder = core.vectors, core.indexes, core.embedder
        self.schemas = core.schemas
        self.worker = core.worker

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"<Database {str(self.path)!r} tenant={self.tenant_id!r} {mode}>"

    def close(self) -> None:
        """Drain the background worker, flush memtables and release the directory."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for handle in reversed(list(self._replication)):  # a follower removes itself as it stops
            handle.stop()
        self._core.close()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for background work (index saves, async embeddings) to finish; ``False`` if ``timeout``
        seconds passed first. Index saves the worker defers until writes pause are made now."""
        if not self.worker.wait_idle(timeout):
            return False
        self._core.indexes.save_deferred()
        return self.worker.wait_idle(timeout)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")
        if self._store.replica:
            from .storage.store import replica_refusal

            raise ReadOnlyError(replica_refusal(self.path))

    # -- schemas -----------------------------------------------------------------------------------
    def register_schema(self, model_or_dict: Any, name: str | None = None, force: bool = False) -> dict[str, Any]:
        """Register a table from a Pydantic model, a dict, a JSON/YAML file path or ``module:Class``.

        Re-registering with a higher major version (or a lower version) needs ``force=True``.
        """
        self._writable()
        schema = self.schemas.register(load_schema_source(model_or_dict), name=name, force=force)
        return self.schemas.describe(schema.short_name)

    def list_schemas(self, category: str | None = None) -> list[dict[str, Any]]:
        """Every table with its settings (``category`` filters: system, agents, public, user)."""
        return [s.settings() for s in self.schemas.all() if category is None or s.category == category]

    def get_schema(self, name: str) -> dict[str, Any]:
        """One table's settings, JSON Schema and version history."""
        return self.schemas.describe(name)

    def remove_schema(self, name: str) -> int:
        """Drop a user table and all its rows; system tables cannot be removed. Returns rows removed."""
        self._writable()
        removed = self.schemas.remove(name)
        self._embedder.drop_table(name)
        return removed

    @staticmethod
    def schema_templates() -> dict[str, str]:
        """Template name -> what it is for."""
        return dict(TEMPLATES)

    def add_schema_from_template(self, name: str, template: str) -> dict[str, Any]:
        """Register a user table ``name`` copied from ``template``."""
        return self.register_schema(template_schema(template, name))

    # -- writes ------------------------------------------------------------------------------------
    def insert(self, table: str, data: Any, async_embeddings: bool = False, vector: Any = None) -> dict[str, Any]:
        """Insert one entity (a dict or Pydantic instance); an existing id makes it an upsert.

        Tables with ``embedding_fields`` embed the entity in the same atomic write; with
        ``async_embeddings=True`` it is written at once and embedded by the background worker
        (searchable after :meth:`wait_idle`). ``vector``: your own vector for it (a list of numbers or a 1-D
        array), stored instead of calling the provider (docs/search.md)."""
        self._writable()
        return self._engine.put_many(table, [data], single=True, embed_mode=_mode(async_embeddings),
                                     vectors=vector)[0]

    def insert_batch(self, table: str, rows: Iterable[Any], async_embeddings: bool = False,
                     progress: Callable[[int, int], None] | None = None, vectors: Any = None) -> list[dict[str, Any]]:
        """Insert many entities of one table: all validated (and embedded, in provider batches of
        ``P8_EMBEDDING_BATCH_SIZE``; ``progress(done, total)`` is called after each) first, then written
        in one atomic batch.

        ``vectors``: precomputed vectors, one per row in row order (a list of lists or a 2-D numpy array of
        shape ``(rows, dimensions)``), stored (float32, unit length) instead of calling the table's
        provider. The table needs ``embedding_fields``; the first vectors it gets fix its dimension. A wrong
        count or dimension, NaN, infinity or an all-zero vector is a :class:`~rem_db.ValidationError` naming
        the row, and nothing is written (docs/search.md)."""
        self._writable()
        return self._engine.put_many(table, list(rows), embed_mode=_mode(async_embeddings), progress=progress,
                                     vectors=vectors)

    def upsert(self, models: Any, data: Any = None) -> list[dict[str, Any]] | dict[str, Any]:
        """Upsert Pydantic instances (table from the model's schema, registered on first use), or
        ``upsert(table, data)`` with a dict or a list of dicts."""
        self._writable()
        if isinstance(models, str):
            if isinstance(data, list):
                return self.insert_batch(models, data)
            return self.insert(models, data)
        items = list(models) if isinstance(models, list | tuple) else [models]
        by_table: dict[str, list[Any]] = {}
        for item in items:
            if not hasattr(item, "model_json_schema"):
                raise ValidationError("upsert() takes Pydantic model instances, or (table, data)")
            by_table.setdefault(self._table_for_model(type(item)), []).append(item)
        out = [r for table, rows in by_table.items() for r in self._engine.put_many(table, rows)]
        return out if isinstance(models, list | tuple) else out[0]

    # -- search ------------------------------------------------------------------------------------------
    def search(self, query: str | None = None, schema: str | None = None, top_k: int = 10,
               where: str | None = None, hybrid: bool = False, include_deleted: bool = False,
               params: Any = None, vector: Any = None, ef: int | None = None) -> list[tuple[dict[str, Any], float]]:
        """Semantic search: ``[(entity, score)]``, best first, score = cosine similarity.

        Give a ``query`` text or a query ``vector`` (a list of numbers or a 1-D array of the table's
        dimension), not both. ``schema=None`` searches every table with embeddings (for a vector: every
        table whose vectors have its dimension). ``where`` (SQL WHERE text, ``params`` bound) filters before
        ranking, so up to ``top_k`` matching rows come back whenever they exist. ``hybrid=True`` fuses BM25
        over the embedded text with the vector ranking (reciprocal rank fusion; the score is then the fused
        score). ``ef``: this call's HNSW search breadth, from ``top_k`` to 10,000 (default: the table's
        ``hnsw.ef_search``, 64); higher finds more of the true nearest rows, slower (docs/search.md)."""
        return self._core.search.search(query, schema, top_k, where, hybrid, include_deleted, params,
                                        vector=vector, ef=ef)

    def search_vector(self, vector: Any, schema: str | None = None, top_k: int = 10, where: str | None = None,
                      include_deleted: bool = False, params: Any = None,
                      ef: int | None = None) -> list[tuple[dict[str, Any], float]]:
        """``search(vector=vector, ...)``: :meth:`search` with your own query vector."""
        return self._core.search.search_vector(vector, schema, top_k, where, include_deleted, params, ef)

    def rebuild_index(self, table: str) -> int:
        """Re-embed every row of ``table`` with its current provider (e.g. after ``P8_DEFAULT_EMBEDDING``
        changed) and rebuild its vector index. Returns the rows embedded."""
        self._writable()
        return rebuild_table_vectors(self.schemas.get(table), self._embedder, self.worker)

    def _table_for_model(self, model: type) -> str:
        raw = load_schema_source(model)
        name = TableSchema.from_json_schema(raw).short_name
        if self.schemas.find(name) is None:
            self.schemas.register(raw)
        return name

    def update(self, id: str | uuid.UUID, patch: Any) -> dict[str, Any]:
        """Merge ``patch`` into the entity's user fields (fields not named are kept), validated."""
        self._writable()
        return self._engine.update(parse_id(id), patch)

    def delete(self, id: str | uuid.UUID, hard: bool = False) -> None:
        """Soft delete (sets ``deleted_at``), or ``hard=True``: remove the entity, its index entries and
        every edge into or out of it."""
        self._writable()
        ident = parse_id(id)
        if hard:
            self._engine.hard_delete(ident)
        else:
            self._engine.soft_delete(ident)

    # -- reads -------------------------------------------------------------------------------------
    def get(self, id: str | uuid.UUID, include_deleted: bool = False,
            include_embeddings: bool = False) -> dict[str, Any]:
        """The entity with this id; :class:`NotFoundError` if there is none (or it is soft-deleted).
        ``include_embeddings=True`` adds ``embedding`` (and ``embedding_alt``) as lists of floats."""
        ident = parse_id(id)
        record = self._engine.get(ident.bytes) if ident.bytes not in self._engine.hidden else None
        if record is None or (record.get("deleted_at") and not include_deleted):
            raise NotFoundError(f"no entity with id {ident}")
        if include_embeddings:
            record.update(self._embedder.vectors_of(self.schemas.get(record["entity_type"]), ident.bytes))
        return record

    def get_batch(self, ids: Iterable[str | uuid.UUID], include_deleted: bool = False) -> list[dict[str, Any] | None]:
        """Entities for many ids in one read, ``None`` where an id has none."""
        idents = [parse_id(i) for i in ids]
        hidden = self._engine.hidden  # rows of an unfinished ingest are not there yet
        return [r if r is not None and (include_deleted or not r.get("deleted_at")) and i.bytes not in hidden
                else None for i, r in zip(idents, self._engine.get_many([i.bytes for i in idents]), strict=True)]

    def rows(self, table: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every entity of a table in id order (live ones unless ``include_deleted``; then the soft-deleted
        ones come last)."""
        self.schemas.get(table)
        if include_deleted:
            return self._engine.rows(table, include_deleted)
        from .query.scan import table_rows

        return table_rows(self._engine, table, False)[0]  # a sequential pass when the table is a large share

    def count(self, table: str, include_deleted: bool = False, where: str | None = None,
              params: Any = None) -> int:
        """Number of entities in a table, read from the index; ``where`` (a SQL condition, ``params``
        bound to its ``?`` / ``:name`` parameters) counts the matching ones through the query engine."""
        self.schemas.get(table)
        if where is not None:
            return self._queries().count(table, where, params, include_deleted)
        from .query.scan import table_count

        return table_count(self._engine, table, include_deleted)  # less the rows of an unfinished ingest

    # -- queries (SPEC §5; rem_db/query, docs/query.md) ---------------------------------------------
    def query(self, text: str, params: Any = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Run SQL (``SELECT`` over one table) or a REM form (``LOOKUP``, ``SEARCH``, ``TRAVERSE``; any of
        them after ``EXPLAIN``). ``?`` parameters take a list, ``:name`` ones a mapping; values are bound
        as literals, never pasted into the text. Returns flat entity dicts (or aggregate rows); soft-deleted
        rows only with ``include_deleted``. Errors are :class:`QueryError` naming the line and column."""
        return self._queries().run(text, params, include_deleted)

    def explain(self, text: str, params: Any = None, include_deleted: bool = False) -> dict[str, Any]:
        """Run a query and describe how: access (``index``, ``scan``, ``index-order``, ``index-count`` …),
        and per step the estimated and actual rows."""
        return self._queries().explain(text, params, include_deleted)

    def _queries(self) -> QueryEngine:
        return self._core.queries

    # -- natural-language questions (SPEC §11; rem_db/llm, docs/ask.md) -------------------------------------
    def ask(self, question: str, execute: bool = True, schema: str | None = None, model: str | None = None,
            max_stages: int = 3, answer: bool = False) -> dict[str, Any]:
        """Answer a question in plain words: a planner (``model`` as ``provider:model``, else
        ``P8_DEFAULT_LLM``, else the offline planner) turns it into a QueryPlan over the tables schema
        discovery picks (``schema`` first), then its stages run: the primary query, and fallbacks whose trigger
        (``no_results``, ``error``, ``low_quality``) matches, up to ``max_stages`` (1-10).

        Returns ``{results, query, query_type, confidence, stages, stage_results, total_time_ms, explanation,
        plan, planner}`` (``stage_results``: per stage its query, parameters, rows, time, outcome and error;
        ``results`` and ``query``: of the last stage that returned rows); with ``execute=False`` only
        ``{plan, planner, total_time_ms}``. ``answer=True`` adds ``answer`` written by the model from the
        results (it needs a model: a :class:`~rem_db.ConfigError` offline). An empty, non-text or over-long
        question is a :class:`~rem_db.ValidationError`, an unknown ``schema`` a :class:`~rem_db.SchemaError`."""
        return self._core.ask.ask(question, execute, schema, model, max_stages, answer)

    # -- dreaming (SPEC §12; rem_db/dream, docs/dreaming.md) ------------------------------------------------
    def dream(self, lookback_hours: float = 24, start: Any = None, end: Any = None, dry_run: bool = False,
              llm: str | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Turn what was created or modified in a window into moments: rows of every table but ``moments``
        and ``schemas`` are grouped into periods of activity, each summarised into a moment (offline, or by
        ``llm`` as ``provider:model``, else ``P8_DEFAULT_LLM``), plus one summary moment of the window;
        edges ``contains`` (moment → row or entity) and ``captured_in`` (row or entity → moment) link them.

        The window is ``[start, end)`` (ISO-8601 text or datetimes); ``end`` defaults to now, ``start`` to
        ``end - lookback_hours``. Dreaming a window again replaces the moments earlier dreams wrote inside it
        (ids derive from tenant + window), in one atomic write. ``dry_run=True`` stores nothing. Returns the
        report ``{window, periods, moments, summary, edges, stored, dry_run, replaced, llm, fallbacks,
        seconds}``; ``progress(step)`` is called as each step starts. A bad window is a
        :class:`~rem_db.ValidationError` naming the option (docs/dreaming.md)."""
        if not dry_run:
            self._writable()
        return self._core.dream.dream(lookback_hours, start, end, dry_run, llm, progress)

    # -- export (SPEC §8; rem_db/export, docs/export.md) ----------------------------------------------
    def export(self, table: str | None = None, output: str | os.PathLike[str] | None = None,
               format: str | None = None, where: str | None = None, include_deleted: bool = False,
               with_embeddings: bool = False, all_tables: bool = False, params: Any = None,
               progress: Callable[[str, int, int | None], None] | None = None,
               parents: bool = False) -> dict[str, Any]:
        """Write ``table`` to the file ``output`` as Parquet (zstd), CSV or JSON Lines (``format``, else
        from the extension), with typed columns: system fields first, then the schema's fields; vectors as
        ``fixed_size_list<float32>`` with ``with_embeddings``. ``where`` (SQL condition, ``params`` bound)
        filters the rows. ``all_tables=True`` writes every table with rows to ``output/<table>.<ext>`` plus
        ``manifest.json``. Like ``mkdir``, a missing target directory (``output`` of ``all_tables``, or one
        ending in ``/``) is created when its parent exists, any other missing directory only with
        ``parents=True`` (else :class:`~rem_db.NotFoundError`); files are written whole or not at all.
        ``progress(table, rows_done, rows_expected_or_None)`` is called after each chunk. Returns a summary
        (``rows``, ``path``, ``columns`` …; for all tables the manifest with ``path`` and ``manifest``)."""
        from .export import export

        return export(self._core.export_sources(), table, output, format=format, where=where, params=params,
                      include_deleted=include_deleted, with_embeddings=with_embeddings, all_tables=all_tables,
                      progress=progress, parents=parents)

    @overload
    def lookup(self, key: str, include_deleted: bool = False, fuzzy: Literal[False] = False,
               limit: int = 10) -> list[dict[str, Any]]: ...
    @overload
    def lookup(self, key: str, include_deleted: bool = False, *, fuzzy: Literal[True],
               limit: int = 10) -> list[tuple[dict[str, Any], float]]: ...
    @overload
    def lookup(self, key: str, include_deleted: bool = False, fuzzy: bool = False,
               limit: int = 10) -> list[dict[str, Any]] | list[tuple[dict[str, Any], float]]: ...

    def lookup(self, key: str, include_deleted: bool = False, fuzzy: bool = False,
               limit: int = 10) -> list[dict[str, Any]] | list[tuple[dict[str, Any], float]]:
        """Entities of any table whose uri, key field, ``key`` or ``name`` equals ``key`` exactly.

        ``fuzzy=True`` also tolerates typos, case and word order: ``[(entity, score)]``, best first, at most
        ``limit`` (1-10,000), one per entity; exact matches come first with score 1.0, others score from
        0.75 to 0.99 (docs/query.md, "Fuzzy lookup"). ``limit`` applies to fuzzy lookups only."""
        if fuzzy:
            return self._engine.lookup_fuzzy(key, limit, include_deleted)
        return self.lookup_batch([key], include_deleted)[key]

    def lookup_batch(self, keys: Iterable[str], include_deleted: bool = False) -> dict[str, list[dict[str, Any]]]:
        """``lookup`` for many keys in one call: key -> matching entities."""
        if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
            raise ValidationError(f"lookup_batch takes a list of keys (strings), not {type(keys).__name__}")
        return self._engine.lookup_batch(list(keys), include_deleted)

    # -- graph (SPEC §7; rem_db/graph, docs/graph.md) ----------------------------------------------
    # Entities are named by id or by key (uri, key field, key or name; an ambiguous key is an error).
    @property
    def graph(self) -> Graph:
        """The graph API object (:class:`rem_db.graph.service.Graph`) the methods below delegate to; it also
        has ``traverse_ids`` (ids, depths and paths without reading the entities)."""
        return self._core.graph

    def add_edge(self, src: Any, dst: Any, rel_type: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
        """Add the edge ``src -[rel_type]-> dst`` (or replace its properties: edges are unique by (dst,
        rel_type), ``created_at`` is kept) and return it. Both ends must exist in this tenant; the source's
        ``edges`` field, both edge keys and the WAL record change in one atomic write."""
        self._writable()
        return self.graph.add_edge(src, dst, rel_type, properties)

    def add_edges(self, edges: Iterable[Any]) -> int:
        """``add_edge`` for many ``(src, dst, rel_type[, properties])`` tuples (or ``{src, dst, rel_type,
        properties}`` dicts) in one atomic batch; each source entity is rewritten once. Returns the count."""
        self._writable()
        return self.graph.add_edges(edges)

    def remove_edge(self, src: Any, dst: Any, rel_type: str) -> None:
        """Remove the edge ``src -[rel_type]-> dst`` (:class:`NotFoundError` if there is none)."""
        self._writable()
        self.graph.remove_edge(src, dst, rel_type)

    def edges(self, id: Any, direction: str = "out", rel_type: Any = None) -> list[dict[str, Any]]:
        """Edges of an entity: ``{direction, src, dst, rel_type, properties, created_at}``; ``direction``
        ``out``, ``in`` or ``both``; ``rel_type`` a type or a list of types (default: all)."""
        return self.graph.edges(id, direction, rel_type)

    def traverse(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                 strategy: str = "bfs", limit: int | None = None,
                 include_deleted: bool = False, fields: list[str] | None = None) -> list[dict[str, Any]]:
        """Entities reachable from ``start`` within ``depth`` hops (1–10), as ``{"entity", "depth", "path"}``
        (``path``: the hops ``{"id", "rel_type"}`` from the start; the start itself is not returned).
        ``strategy`` ``bfs`` (by depth) or ``dfs`` (pre-order); ``limit`` caps the number of results;
        soft-deleted entities are neither returned nor walked through unless ``include_deleted``.
        ``fields``: each entity holds only these fields (those it has) plus ``id`` and ``entity_type``, and
        its edge list is not decoded unless ``edges`` is among them."""
        return self.graph.traverse(start, depth, direction, rel_type, strategy, limit, include_deleted, fields)

    def shortest_path(self, a: Any, b: Any, max_depth: int = 6, direction: str = "both", rel_type: Any = None,
                      include_deleted: bool = False) -> dict[str, Any] | None:
        """A shortest path from ``a`` to ``b`` of at most ``max_depth`` (1–10) edges: ``{"length", "path"
        (hops {"id", "rel_type"} from a), "entities" (a ... b)}``, or ``None`` when there is none."""
        return self.graph.shortest_path(a, b, max_depth, direction, rel_type, include_deleted)

    def neighbors_batch(self, ids: Iterable[Any], direction: str = "out", rel_type: Any = None,
                        include_deleted: bool = False) -> dict[str, list[dict[str, str]]]:
        """Neighbours of many entities in one pass: ``{id: [{"id", "rel_type", "direction"}, ...]}``."""
        return self.graph.neighbors_batch(ids, direction, rel_type, include_deleted)

    # -- documents (SPEC §8; rem_db/ingest, docs/ingest.md) --------------------------------------------
    def ingest(self, path: str | os.PathLike[str], schema: str | None = None, *, recursive: bool = False,
               glob: str | None = None, category: str | None = None, tags: Iterable[str] | None = None,
               metadata: dict[str, Any] | None = None, chunk_tokens: int = 256, overlap_tokens: int = 32,
               progress: Callable[[Any], None] | None = None, follow_symlinks: bool = False) -> Any:
        """Ingest a file, or the files of a directory (``recursive``: its subdirectories too; ``glob``
        filters names, e.g. ``"*.pdf"``). Returns an :class:`~rem_db.ingest.IngestReport`. In a directory,
        symbolic links leading outside it are reported as skipped unless ``follow_symlinks``; the
        database's own directory is never ingested.

        Documents (text, Markdown, HTML, PDF, DOCX, XLSX) get one ``documents`` row (``file://`` uri,
        sha256 hash) and chunks of at most ``chunk_tokens`` model tokens (``overlap_tokens`` shared by
        neighbours) in ``schema`` (default ``resources``), linked by ``has_chunk`` edges and embedded.
        Records files (JSON, JSONL, CSV) are inserted into ``schema``, which they need. An unchanged file
        is skipped; a changed one has its chunks replaced in one atomic write. ``category``, ``tags`` and
        ``metadata`` go on the document and its chunks. In a directory, files that cannot be ingested are
        reported (``report.skipped``, ``report.failed``) and the others go on; a single file that cannot
        be ingested raises :class:`~rem_db.errors.IngestError`. ``progress(IngestProgress)`` is called as
        files are read and chunks embedded."""
        from .ingest import ChunkSettings, IngestOptions, Ingestor

        self._writable()
        if metadata is not None and not isinstance(metadata, dict):
            raise ValidationError(f"ingest metadata must be a JSON object, got {type(metadata).__name__}")
        tag_list = [tags] if isinstance(tags, str) else list(tags or [])
        if not all(isinstance(t, str) and t for t in tag_list):
            raise ValidationError(f"ingest tags must be non-empty strings, got {tag_list!r}")
        options = IngestOptions(schema=schema, category=category, tags=tag_list, metadata=dict(metadata or {}),
                                chunking=ChunkSettings(chunk_tokens, overlap_tokens), recursive=recursive, glob=glob,
                                follow_symlinks=follow_symlinks)
        return Ingestor(self._core.ingest_sources(), options, progress).run(path)

    @property
    def index(self) -> Any:
        """Internal field-index read API (equality / range / ordered scan), for the query engine."""
        return self._engine.fields

    @property
    def encrypted(self) -> bool:
        """Whether the database's values are encrypted at rest (it was made with a password)."""
        return self._core.encrypted

    def stats(self, table: str | None = None) -> dict[str, Any]:
        """Rows per table (``tables``: name -> rows) and the WAL position (``wal_seq``), plus ``details`` per
        table (rows, embedding provider, dimensions and vectors, vector index kind, elements and file bytes),
        ``disk`` bytes per area (entities, indexes, vectors with the index files, fulltext, graph, wal,
        other, total), ``wal`` (sequence, first retained, records, bytes, retention settings), ``embedding``
        (configured providers), ``replication`` (``role``: none, primary or replica) and ``encrypted``.
        With ``table``, the per-table figures of that table only. See docs/replication.md."""
        from .replication.stats import collect_stats

        if table is not None:
            table = self.schemas.get(table).short_name
        return collect_stats(self._core.stats_sources(), table)

    def backup(self, dest: str | os.PathLike[str], progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Write an online, consistent copy of the database to the new directory ``dest`` while writes go
        on: its store at one commit sequence and the vector index files that serve it (an encrypted
        database stays encrypted). Returns ``{"path", "sequence", "bytes", "seconds", "encrypted",
        "indexes"}``. An existing ``dest`` is refused (:class:`StorageError`). A read-only handle copies the
        database as it sees it (as of its open). ``progress(step)`` is called as each step starts.
        Restore it with :meth:`Database.restore`; see docs/replication.md."""
        from .replication.snapshot import backup

        return backup(self._store, self._indexes, dest, progress)

    @staticmethod
    def restore(src: str | os.PathLike[str], path: str | os.PathLike[str]) -> dict[str, Any]:
        """Make ``path`` (a new or empty directory: anything else is refused with :class:`StorageError`
        before a file is written) a database from the backup ``src`` made by :meth:`backup`. Returns
        ``{"path", "source", "sequence", "bytes", "seconds", "encrypted"}``; open it with ``Database(path)``
        (and the same password and key pair when it is encrypted)."""
        from .replication.snapshot import restore

        return restore(src, path)

    # -- replication (SPEC §9; rem_db/replication, docs/replication.md) ----------------------------------
    def serve(self, host: str = "127.0.0.1", port: int | None = None, *, token: str | None = None,
              tls_cert: str | os.PathLike[str] | None = None,
              tls_key: str | os.PathLike[str] | None = None) -> ReplicationServer:
        """Serve this database's WAL to replicas over gRPC from inside the writing process; returns the
        running server (``.port``, ``.address``, ``.status()``, ``.stop()``; stopped on :meth:`close`).

        ``port`` defaults to ``P8_REPLICATION_PORT`` (50051; 0 picks a free one), ``token`` to
        ``P8_REPLICATION_TOKEN``. Any host but loopback needs a token and TLS (``tls_cert``/``tls_key``, PEM
        files), else :class:`~rem_db.ConfigError`. New commits reach connected replicas as they are published."""
        from .replication.feed import WalFeed
        from .replication.server import start_server
        from .replication.snapshot import make_snapshot

        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only: serve it from the writing process, or "
                                f"with `rem serve` (serve_directory) beside it")
        store, indexes = self._store, self._indexes
        feed = WalFeed(store)
        try:
            server = start_server(feed, host, self.settings.replication_port if port is None else port,
                                  token=token or self.settings.replication_token, tls_cert=tls_cert,
                                  tls_key=tls_key, snapshot=lambda dest: make_snapshot(store, indexes, dest),
                                  status_dir=self.path)
        except BaseException:
            feed.close()
            raise
        self._replication.append(server)
        return server

    @classmethod
    def open_replica(cls, path: str | os.PathLike[str], primary: str, *, password: str | None = None,
                     tenant_id: str | None = None) -> Database:
        """Open ``path`` (a new or empty directory, a restored backup, or a replica already) as a read-only
        replica of the primary at ``primary`` (``HOST:PORT``), then :meth:`replicate` into it. Writes are
        refused with :class:`ReadOnlyError` ("replica is read-only") until :meth:`promote`. An encrypted
        primary's replica opens with the same password and key pair."""
        from .replication.security import split_address
        from .replication.target import mark_replica

        split_address(primary)
        settings = Settings.from_env()
        where = Path(path).expanduser()
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create database directory {where}: {exc}") from None
        mark_replica(where, primary, settings)
        return cls(where, tenant_id=tenant_id, password=password)

    def replicate(self, *, follow: bool = False, token: str | None = None,
                  tls_ca: str | os.PathLike[str] | None = None, backoff: tuple[float, float] = (1.0, 60.0),
                  on_state: Callable[[Any], None] | None = None,
                  on_applied: Callable[[int], None] | None = None) -> Any:
        """Pull the primary's WAL into this replica (opened with :meth:`open_replica`).

        Without ``follow``: catch up to the primary's current sequence and return the status (a dict:
        ``state``, ``position``, ``primary_seq`` ...). With ``follow=True``: follow it in a background thread
        and return a :class:`~rem_db.replication.client.ReplicaHandle` (``.status``, ``.wait_for(seq)``,
        ``.stop()``; stopped on :meth:`close`); it reconnects with ``backoff`` (1 s doubling to 60 s) after
        any failure. Reads on this handle see each applied batch. A refusal by the primary (wrong token,
        diverged history) is a :class:`~rem_db.errors.ReplicationError`."""
        from .errors import ReplicationError
        from .replication.client import ReplicaHandle, Replicator
        from .replication.target import DatabaseTarget, read_role

        role = read_role(self._store)
        if role is None or self.read_only:
            raise ReplicationError(f"{self.path} is not open as a replica: open it with "
                                   f"Database.open_replica(path, primary) (`rem replicate --primary HOST:PORT`)")
        target = DatabaseTarget(self._replica_parts, self._reopen, role, self.encrypted)
        replicator = Replicator(target, role.primary, role.replica_id,
                                token=token or self.settings.replication_token, tls_ca=tls_ca,
                                status_dir=self.path, backoff=backoff, on_state=on_state, on_applied=on_applied)
        if not follow:
            return replicator.run(follow=False).as_dict()
        handle = ReplicaHandle(replicator, on_exit=lambda: self._replication.remove(handle)
                               if handle in self._replication else None)
        self._replication.append(handle)
        return handle

    def promote(self) -> dict[str, Any]:
        """Make this replica a writable primary at its current position (``{"path", "sequence",
        "primary"}``). It never follows a primary again; the old primary's later commits are not merged."""
        from .replication.target import promote, read_role

        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only: promote needs a read-write open")
        for handle in list(self._replication):
            if hasattr(handle, "replicator"):
                handle.stop()
        role = read_role(self._store)
        seq = promote(self._store)
        return {"path": str(self.path), "sequence": seq, "primary": role.primary if role else None}

    def replication_status(self) -> dict[str, Any]:
        """``mode`` (replica, primary, none), ``primary``, ``position``, ``lag_entries``, ``lag_ms``,
        ``state`` (disconnected, connecting, syncing, synced, error), ``last_sync``."""
        from .replication.status import replication_status

        return replication_status(self._store, self.path)

    def wal_status(self) -> dict[str, Any]:
        """``sequence``, ``first_seq``, ``entries`` retained, ``bytes``, ``connected_replicas``."""
        from .replication.status import wal_status

        return wal_status(self._store, self.path)

    def _replica_parts(self) -> tuple[Any, Any]:
        from .replication.caches import ReplicaCaches

        core = self._core
        caches = getattr(core, "_replica_caches", None)
        if caches is None:
            caches = ReplicaCaches(core.schemas, core.entities, core.embedder)
            core._replica_caches = caches  # type: ignore[attr-defined]
        return core.store, caches

    def _reopen(self, between: Callable[[], None] | None = None) -> None:
        """Close the core, run ``between`` (e.g. swap in a snapshot) and open it again (same password)."""
        self._core.close()
        if between is not None:
            between()
        self._core = build_core(self.path, self.tenant_id, self.read_only, self.settings, password=self._password)
        self._bind(self._core)


    # -- what the `rem` commands do, as library calls (the CLI is a thin mirror of these) --------------
    def insert_jsonl(self, table: str, source: JsonlSource, *, chunk_size: int = 1000, upsert: bool = False,
                     async_embeddings: bool = False, return_entities: bool = False, name: str | None = None,
                     progress: Callable[[JsonlProgress], None] | None = None) -> JsonlResult:
        """Insert the JSON Lines of ``source`` (a file path, a binary or text file object, or an iterable of
        lines) into ``table``, ``chunk_size`` lines per atomic :meth:`insert_batch`; blank lines are skipped.

        A line that is not UTF-8, not JSON or not a valid row raises :class:`~rem_db.ValidationError`
        (:class:`~rem_db.entities.stream.JsonlLineError`, with ``line``, ``chunk_start`` and ``written``)
        naming the line; nothing of its chunk is written and the chunks before it stay written. Other errors
        keep their type and get a note saying the same. ``upsert=True`` only words messages as "upserted"
        (an existing id makes every insert an upsert); ``name`` names the input in messages (default: the
        path or the file's name). ``progress(JsonlProgress)`` is called after each chunk and while a chunk
        is embedded. Returns a :class:`~rem_db.entities.stream.JsonlResult` (rows, chunks, lines, and the
        written entities with ``return_entities=True``)."""
        from .entities.stream import JsonlLoader

        self._writable()
        self.get_schema(table)  # an unknown table fails before any input is read

        def write(rows: list[Any], embedded: Callable[[int, int], None] | None) -> list[dict[str, Any]]:
            return self.insert_batch(table, rows, async_embeddings=async_embeddings, progress=embedded)

        loader = JsonlLoader(table, write, chunk_size=chunk_size, verb="upserted" if upsert else "inserted",
                             keep_entities=return_entities, progress=progress)
        return loader.load(source, name)

    def traverse_dot(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                     strategy: str = "bfs", limit: int | None = None, include_deleted: bool = False) -> str:
        """:meth:`traverse` drawn as Graphviz DOT text: the start (bold), the entities reached (labelled by
        :meth:`entity_labels`, with table and depth) and every edge between them of the followed relation
        types, from source to destination. Render it with ``dot -Tsvg``."""
        from .graph.dot import traversal_dot
        from .graph.labels import EntityLabels

        return traversal_dot(self.graph, EntityLabels(self._key_field), start, depth, direction, rel_type,
                             strategy, limit, include_deleted)

    def entity_labels(self, entities: Iterable[dict[str, Any]]) -> dict[str, str]:
        """A short human label per entity id: its table's key-field value, else ``name``, ``key``,
        ``title`` or ``uri``, else the id (what ``rem traverse`` and :meth:`traverse_dot` show)."""
        from .graph.labels import EntityLabels

        label = EntityLabels(self._key_field)
        return {str(entity["id"]): label(entity) for entity in entities}

    def _key_field(self, table: str) -> str | None:
        from .errors import DatabaseError

        try:
            key_field = self.get_schema(table).get("key_field")
        except DatabaseError:  # a table removed meanwhile: labels fall back to the generic fields
            return None
        return key_field if isinstance(key_field, str) else None

    def schema_fields(self, name: str) -> list[dict[str, Any]]:
        """The fields of table ``name`` in schema order: ``{"field", "type", "required", "default",
        "flags"}`` (``flags``: ``key``, ``indexed``, ``embedded`` where they apply)."""
        from .schema.summary import field_rows

        return field_rows(self.get_schema(name))

    @staticmethod
    def schema_template(template: str, name: str) -> dict[str, Any]:
        """The schema of a new table ``name`` copied from ``template`` (see :meth:`schema_templates`),
        without registering it (:meth:`add_schema_from_template` registers it)."""
        from .schema.templates import template_schema as build

        return build(template, name)

    def embedded_text(self, entity: dict[str, Any]) -> str:
        """The text an entity's table embeds for it (its embedding fields joined; ``""`` when the table has
        none): what :meth:`search` ranked it by."""
        from .embeddings.vectors import text_of

        fields = self.get_schema(entity["entity_type"]).get("embedding_fields") or []
        return text_of(tuple(fields), entity)


def generate_key_pair(password: str, home: str | os.PathLike[str] | None = None) -> str:
    """Make the Ed25519 key pair of encrypted databases under ``home/keys`` (default ``$P8_HOME``), its private
    key wrapped with ``password``; refuses to replace an existing one. Returns its fingerprint."""
    from .crypto.keys import generate

    return generate(_home(home), password).fingerprint


def rekey(password: str, new_password: str, home: str | os.PathLike[str] | None = None) -> str:
    """Re-wrap the private key under ``home/keys`` with ``new_password`` (no data is rewritten: every database
    made with the key pair opens with the new password, none with the old). Returns its fingerprint."""
    from .crypto.keys import rekey as rewrap

    return rewrap(_home(home), password, new_password).fingerprint


def serve_directory(path: str | os.PathLike[str] | None = None, host: str = "127.0.0.1", port: int | None = None,
                    *, token: str | None = None, tls_cert: str | os.PathLike[str] | None = None,
                    tls_key: str | os.PathLike[str] | None = None, poll_interval: float = 0.002) -> ReplicationServer:
    """Serve a database directory that another process writes (or none does), as ``rem serve`` does: a
    RocksDB secondary instance follows the writer every ``poll_interval`` seconds; the writer needs no
    change. Same options as :meth:`Database.serve`; returns the running server (``.stop()`` ends it)."""
    from .replication.serving import serve_beside

    settings = Settings.from_env()
    where = Path(path).expanduser() if path is not None else settings.resolved_db_path
    return serve_beside(where, settings, host, settings.replication_port if port is None else port,
                        token=token or settings.replication_token, tls_cert=tls_cert, tls_key=tls_key,
                        poll_interval=poll_interval)


def _home(home: str | os.PathLike[str] | None) -> Path:
    return Path(home).expanduser() if home is not None else Settings.from_env().home


def _mode(async_embeddings: bool) -> str:
    return "async" if async_embeddings else "sync"
