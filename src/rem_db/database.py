"""The :class:`Database` facade: one object per open REM directory and tenant (SPEC §14)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        self._core: Core = build_core(self.path, self.tenant_id, read_only, settings, password=password)
        core = self._core
        # the parts tests and benches look at; every method below delegates to the core's services
        self._store, self._keyspace, self._engine = core.store, core.keyspace, core.entities
        self._vectors, self._indexes, self._embedder = core.vectors, core.indexes, core.embedder
        self.schemas = core.schemas
        self.worker = core.worker
        self._closed = False

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
        self._core.close()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for background work (index saves, async embeddings) to finish."""
        return self.worker.wait_idle(timeout)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")

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
    def insert(self, table: str, data: Any, async_embeddings: bool = False) -> dict[str, Any]:
        """Insert one entity (a dict or Pydantic instance); an existing id makes it an upsert.

        Tables with ``embedding_fields`` embed the entity in the same atomic write; with
        ``async_embeddings=True`` it is written at once and embedded by the background worker
        (searchable after :meth:`wait_idle`)."""
        self._writable()
        return self._engine.put_many(table, [data], single=True, embed_mode=_mode(async_embeddings))[0]

    def insert_batch(self, table: str, rows: Iterable[Any], async_embeddings: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Insert many entities of one table: all validated (and embedded, in provider batches of
        ``P8_EMBEDDING_BATCH_SIZE``; ``progress(done, total)`` is called after each) first, then written
        in one atomic batch."""
        self._writable()
        return self._engine.put_many(table, list(rows), embed_mode=_mode(async_embeddings), progress=progress)

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
    def search(self, query: str, schema: str | None = None, top_k: int = 10, where: str | None = None,
               hybrid: bool = False, include_deleted: bool = False,
               params: Any = None) -> list[tuple[dict[str, Any], float]]:
        """Semantic search: ``[(entity, score)]``, best first, score = cosine similarity.

        ``schema=None`` searches every table with embeddings. ``where`` (SQL WHERE text, ``params`` bound)
        filters before ranking, so up to ``top_k`` matching rows come back whenever they exist.
        ``hybrid=True`` fuses BM25 over the embedded text with the vector ranking (reciprocal rank fusion;
        the score is then the fused score)."""
        return self._core.search.search(query, schema, top_k, where, hybrid, include_deleted, params)

    def search_vector(self, vector: Any, schema: str, top_k: int = 10, where: str | None = None,
                      include_deleted: bool = False, params: Any = None) -> list[tuple[dict[str, Any], float]]:
        """Like :meth:`search`, with your own query vector (same provider and dimension as the table)."""
        return self._core.search.search_vector(vector, schema, top_k, where, include_deleted, params)

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

    def lookup(self, key: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Entities of any table whose uri, key field, ``key`` or ``name`` equals ``key`` exactly."""
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
                 include_deleted: bool = False) -> list[dict[str, Any]]:
        """Entities reachable from ``start`` within ``depth`` hops (1–10), as ``{"entity", "depth", "path"}``
        (``path``: the hops ``{"id", "rel_type"}`` from the start; the start itself is not returned).
        ``strategy`` ``bfs`` (by depth) or ``dfs`` (pre-order); ``limit`` caps the number of results;
        soft-deleted entities are neither returned nor walked through unless ``include_deleted``."""
        return self.graph.traverse(start, depth, direction, rel_type, strategy, limit, include_deleted)

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

    def stats(self) -> dict[str, Any]:
        """Row counts per table and the WAL position."""
        return {
            "path": str(self.path),
            "tenant": self.tenant_id,
            "read_only": self.read_only,
            "encrypted": self.encrypted,
            "tables": {s.short_name: self._engine.fields.count_table(s.short_name) for s in self.schemas.all()},
            "wal_seq": self._store.wal_seq(),
        }


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


def _home(home: str | os.PathLike[str] | None) -> Path:
    return Path(home).expanduser() if home is not None else Settings.from_env().home


def _mode(async_embeddings: bool) -> str:
    return "async" if async_embeddings else "sync"
