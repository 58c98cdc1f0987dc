"""The entity engine: every write of an entity with its index entries, edges and WAL record as one atomic
batch, and the reads that return flat entity dicts."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ..embeddings.precomputed import given_vectors
from ..errors import NotFoundError, ValidationError
from ..graph import adjacency
from ..graph.changes import EdgeChanges
from ..graph.edges import EdgeReader
from ..graph.ids import as_id16
from ..graph.resolve import resolve_edge_keys
from ..index.fields import FieldIndex
from ..index.fuzzy import FuzzyKeys
from ..index.keys import KeyIndex
from ..schema.model import TableSchema
from ..schema.validation import RowRef
from ..storage.batch import Batch
from ..storage.codec import encode_str, now_iso, successor
from ..storage.keyspace import Keyspace
from ..storage.store import Store
from .field_names import FieldNames
from .hidden import HiddenRows
from .records import Incoming, build_record, merge_edges, prepare, to_plain, user_fields

log = logging.getLogger("rem_db.engine")
ENTITIES = "entities"
READ_CHUNK = 1000
MAX_KNOWN = 1 << 18  # ids in EntityEngine.known (about 20 MB)
MAX_FUZZY_LIMIT = 10_000  # results of one fuzzy lookup


class EntityEngine:
    """Writes and reads the entities of one tenant. All writes hold one lock, so sequence numbers
    and read-modify-write upserts are consistent across threads.

    An entity's outgoing edges are stored in its ``edges`` field and as keys of the ``edges`` /
    ``reverse_edges`` families, with a packed neighbour list for walks (graph/adjacency.py); a hub (more than
    256 outgoing edges) stores their number in ``edges`` instead, and reads put the list back from its keys
    (docs/graph.md)."""

    def __init__(self, store: Store, keyspace: Keyspace, schema_of: Callable[[str], TableSchema]) -> None:
        self.store = store
        self.ks = keyspace
        self.schema_of = schema_of
        self.fields = FieldIndex(store, keyspace)
        self.keys = KeyIndex(store, keyspace)
        self.fuzzy = FuzzyKeys(store, keyspace, self.keys)  # built on the first fuzzy lookup
        self.field_names = FieldNames(store, keyspace, self.fields)  # which fields each table's rows have had
        self.hidden = HiddenRows.load(store, keyspace)  # rows every read leaves out (entities/hidden.py)
        self.lock = threading.RLock()
        self.embedder: Any = None  # EmbeddingWriter, attached by the Database when vectors are available
        self.generation = 0  # bumped by every commit: caches of derived data compare it
        self.edge_reader = EdgeReader(store, keyspace)
        self.packed_adjacency = adjacency.ensure_ready(store)  # walks read the packed lists (graph/adjacency.py)
        self._rel_keys: dict[str, bytes] = {}
        self._timestamps: dict[str, bytes] = {}
        #: ids of entities read from the store (under the lock) and so known to exist, for the edge writes'
        #: destination checks; an id leaves it when its entity is hard-deleted (remove_record, the only path
        #: that deletes an entity). Bounded: emptied when it holds MAX_KNOWN ids.
        self.known: set[bytes] = set()

    # -- reads -------------------------------------------------------------------------------------
    def get(self, id16: bytes) -> dict[str, Any] | None:
        raw = self.store.get(ENTITIES, self.ks.entity(id16))
        if raw is None:
            return None
        record = orjson.loads(raw)
        if type(record.get("edges")) is int:  # a hub: its edges are read from their keys
            record["edges"] = self.edge_reader(id16)
        return record

    def get_many(self, ids: list[bytes]) -> list[dict[str, Any] | None]:
        return self.with_edges(self.get_stored_many(ids), ids)

    def get_stored(self, id16: bytes) -> dict[str, Any] | None:
        """The entity as stored: for a hub, ``edges`` is the number of its outgoing edges (:meth:`with_edges`
        reads them)."""
        raw = self.store.get(ENTITIES, self.ks.entity(id16))
        return orjson.loads(raw) if raw is not None else None

    def get_stored_many(self, ids: list[bytes]) -> list[dict[str, Any] | None]:
        return [orjson.loads(r) if r is not None else None for r in self.get_raw_many(ids)]

    def get_raw_many(self, ids: list[bytes]) -> list[bytes | None]:
        """The stored JSON bytes of ``ids`` (``None``: missing), undecoded."""
        return self.store.multi_get(ENTITIES, [self.ks.entity(i) for i in ids])

    def with_edges(self, records: list[Any], ids: list[bytes] | None = None) -> list[Any]:
        """Put the ``edges`` list back into stored hubs among ``records`` (``None`` entries allowed), in
        place; ``ids`` are their 16-byte ids when the caller has them. Returns ``records``."""
        for n, record in enumerate(records):
            if record is not None and type(record.get("edges")) is int:
                id16 = ids[n] if ids is not None else as_id16(record["id"])
                if id16 is None:
                    raise ValueError(f"stored entity id is not a UUID: {record['id']!r}")
                record["edges"] = self.edge_reader(id16)
        return records

    def iter_ids(self, ids: Iterator[bytes]) -> Iterator[dict[str, Any]]:
        """Fetch the entities of an id stream in chunks (one multi-get per chunk)."""
        if self.hidden:
            ids = self.hidden.visible(ids)
        chunk: list[bytes] = []
        for id16 in ids:
            chunk.append(id16)
            if len(chunk) >= READ_CHUNK:
                yield from (r for r in self.get_many(chunk) if r is not None)
                chunk = []
        if chunk:
            yield from (r for r in self.get_many(chunk) if r is not None)

    def lookup_batch(self, keys: list[str], include_deleted: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Entities of any table whose uri, key field, ``key`` or ``name`` equals each key exactly."""
        bad = next((k for k in keys if not isinstance(k, str | int) or isinstance(k, bool)), None)
        if bad is not None:
            raise ValidationError(f"a lookup key is a string, not {type(bad).__name__} ({bad!r:.60})")
        hidden = self.hidden
        found = {k: [id16 for _, id16 in self.keys.find(str(k)) if id16 not in hidden] for k in keys}
        wanted = list(dict.fromkeys(i for ids in found.values() for i in ids))
        records = dict(zip(wanted, self.get_many(wanted), strict=True))
        return {k: [r for i in ids if (r := records.get(i)) is not None
                    and (include_deleted or not r.get("deleted_at"))] for k, ids in found.items()}

    def lookup_fuzzy(self, key: str, limit: int = 10,
                     include_deleted: bool = False) -> list[tuple[dict[str, Any], float]]:
        """``[(entity, score)]`` of the entities of any table whose key values match ``key`` allowing typos,
        case and word order (index/fuzzy.py): best first, exact matches first with 1.0, at most ``limit``."""
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise ValidationError(f"a lookup key is a string, not {type(key).__name__} ({key!r:.60})")
        if not str(key).strip():
            raise ValidationError("a fuzzy lookup needs a key with at least one character that is not a space")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_FUZZY_LIMIT:
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_FUZZY_LIMIT:,}, got {limit!r}")
        hidden = self.hidden
        ranked = [(id16, score) for id16, score in self.fuzzy.match(str(key), limit) if id16 not in hidden]
        out: list[tuple[dict[str, Any], float]] = []
        for start in range(0, len(ranked), limit):  # soft-deleted rows are left out: read on until full
            chunk = ranked[start:start + limit]
            for (_, score), record in zip(chunk, self.get_many([i for i, _ in chunk]), strict=True):
                if record is not None and (include_deleted or not record.get("deleted_at")):
                    out.append((record, score))
            if len(out) >= limit:
                break
        return out[:limit]

    def rows(self, table: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        ids = self.fields.table_ids(table) if include_deleted else self.fields.live_ids(table)
        return self.iter_ids(ids)

    # -- writes ------------------------------------------------------------------------------------
    def put_many(self, table: str, rows: list[Any], single: bool = False,
                 embed_mode: str = "sync", progress: Any = None, vectors: Any = None) -> list[dict[str, Any]]:
        """Insert-or-upsert rows of one table, validated first, written all-or-nothing, with their vectors
        (``embed_mode``: ``sync`` in the same batch, ``async`` by the background worker after commit,
        ``lazy`` not now: changed texts lose their vector until a backfill). ``vectors``: the caller's
        vectors, one per row (with ``single``: the row's one vector), written instead of embedding."""
        schema = self.schema_of(table)
        incoming = [prepare(schema, row, None if single else n) for n, row in enumerate(rows)]
        given = self._given(schema, incoming, vectors, single) if vectors is not None else None
        if not incoming:
            return []
        unique = list(dict.fromkeys(inc.id16 for inc in incoming))
        read_at = self.store.wal_seq()  # the rows as they are before any commit after this sequence
        before = dict(zip(unique, self.get_many(unique), strict=True))
        plan = self._embed_plan(schema, incoming, embed_mode, before=before, progress=progress, given=given)
        with self.lock:
            resolve_edge_keys(self, schema, incoming)  # edge dst given as a key -> id
            now = now_iso()
            if self.store.wal_seq() != read_at:  # another write came in between: read them again
                before = dict(zip(unique, self.get_many(unique), strict=True))
            staged: dict[bytes, dict[str, Any]] = {}
            results = []
            for inc in incoming:
                prev = staged.get(inc.id16) or before.get(inc.id16)
                record = self._upserted(schema, inc, prev, now)
                staged[inc.id16] = record
                results.append(record)
            self._check_edge_targets(schema, incoming, staged)
            batch = self.store.batch()
            for id16, record in staged.items():
                self.write_record(batch, schema, before.get(id16), record, id16)
            if plan is not None:
                self.embedder.apply(batch, plan, before)
            self.commit(batch)
        return results

    def _embed_plan(self, schema: TableSchema, incoming: list[Incoming], mode: str,
                    before: dict[bytes, Any] | None = None, progress: Any = None,
                    given: dict[bytes, Any] | None = None) -> Any:
        """Vectors for the rows whose embedded text changed, computed before the write lock is taken."""
        if self.embedder is None or not schema.embedding_fields:
            return None
        final = {inc.id16: inc.user for inc in incoming}
        if before is None:
            ids = list(final)
            before = dict(zip(ids, self.get_many(ids), strict=True))
        return self.embedder.prepare(schema, final, before, mode, progress, given)

    def _given(self, schema: TableSchema, incoming: list[Incoming], vectors: Any, single: bool) -> dict[bytes, Any]:
        """The caller's vectors checked (embeddings/precomputed.py), by row id (a repeated id: the last)."""
        table = schema.short_name
        if self.embedder is None or not schema.embedding_fields:
            raise RowRef(table).error("the table has no embedding_fields, so it holds no vectors: declare the "
                                      "field(s) its vectors stand for in embedding_fields", "vector")
        matrix = given_vectors(table, vectors, len(incoming), self.embedder.dimensions(table), single)
        return {inc.id16: matrix[n] for n, inc in enumerate(incoming)}

    def _upserted(self, schema: TableSchema, inc: Incoming, prev: dict[str, Any] | None,
                  now: str) -> dict[str, Any]:
        if prev is not None and prev["entity_type"] != schema.short_name:
            raise RowRef(schema.short_name, inc.position).error(
                f"id {inc.id} already belongs to table {prev['entity_type']!r}", "id")
        created = prev["created_at"] if prev else now
        edges = merge_edges(prev.get("edges") or [] if prev else [], inc.edges, now)
        return build_record(schema.short_name, inc.id, inc.user, edges, created, now)

    def _check_edge_targets(self, schema: TableSchema, incoming: list[Incoming],
                            staged: dict[bytes, dict[str, Any]]) -> None:
        wanted = {uuid.UUID(e["dst"]).bytes: inc for inc in incoming for e in inc.edges or []}
        missing = [d for d in wanted if d not in staged]
        found = self.exist(missing)
        for dst in missing:
            if dst not in found:
                inc = wanted[dst]
                raise RowRef(schema.short_name, inc.position).error(
                    f"edge target {uuid.UUID(bytes=dst)} does not exist", "edges")

    def update(self, ident: uuid.UUID, patch: Any) -> dict[str, Any]:
        """Shallow-merge ``patch`` into an entity's user fields, validate, write."""
        with self.lock:
            old = self.get(ident.bytes)
            if old is None or old.get("deleted_at"):
                raise NotFoundError(f"no entity with id {ident}")
            schema = self.schema_of(old["entity_type"])
            inc = prepare(schema, _patched(old, patch, schema), None)
            resolve_edge_keys(self, schema, [inc])
            now = now_iso()
            record = build_record(schema.short_name, ident, inc.user,
                                  merge_edges(old.get("edges") or [], inc.edges, now), old["created_at"], now)
            self._check_edge_targets(schema, [inc], {ident.bytes: record})
            plan = self._embed_plan(schema, [inc], "sync", {ident.bytes: old})
            batch = self.store.batch()
            self.write_record(batch, schema, old, record, ident.bytes)
            if plan is not None:
                self.embedder.apply(batch, plan, {ident.bytes: old})
            self.commit(batch)
        return record

    def soft_delete(self, ident: uuid.UUID) -> dict[str, Any]:
        with self.lock:
            old = self.get_stored(ident.bytes)
            if old is None:
                raise NotFoundError(f"no entity with id {ident}")
            if old.get("deleted_at"):
                return self.with_edges([old], [ident.bytes])[0]
            now = now_iso()
            record = {**old, "modified_at": now, "deleted_at": now}
            batch = self.store.batch()
            self.write_record(batch, self.schema_of(old["entity_type"]), old, record, ident.bytes)
            self.commit(batch)
        return self.with_edges([record], [ident.bytes])[0]

    def hard_delete(self, ident: uuid.UUID) -> None:
        """Remove the entity, its index entries and every edge into or out of it."""
        with self.lock:
            old = self.get_stored(ident.bytes)
            if old is None:
                raise NotFoundError(f"no entity with id {ident}")
            batch = self.store.batch()
            self.remove_record(batch, self.schema_of(old["entity_type"]), old, ident.bytes)
            self.commit(batch)

    def drop_table(self, schema: TableSchema) -> int:
        """Hard-delete every row of a table, one atomic batch per chunk. Returns rows removed."""
        removed = 0
        with self.lock:
            ids = list(self.fields.table_ids(schema.short_name))
            for start in range(0, len(ids), READ_CHUNK):
                chunk = ids[start:start + READ_CHUNK]
                batch = self.store.batch()
                going = set(chunk)
                rewrites: dict[bytes, Any] = {}
                for id16, record in zip(chunk, self.get_stored_many(chunk), strict=True):
                    if record is not None:
                        self.remove_record(batch, schema, record, id16, going, rewrites)
                        removed += 1
                self.flush_rewrites(batch, rewrites)
                self.commit(batch)
            batch = self.store.batch()
            self.field_names.drop(batch, schema.short_name)
            self.commit(batch)
        return removed

    # -- batch building (callers hold the lock) ----------------------------------------------------
    def write_record(self, batch: Batch, schema: TableSchema, old: dict[str, Any] | None,
                     new: dict[str, Any], id16: bytes) -> None:
        """Put ``new`` with its index entries and edges, removing what ``old`` had that ``new`` has not.

        ``new["edges"]`` is either the entity's whole edge list (the edges it gains, changes or loses
        against ``old``'s are written; a hub stores their number), or the stored form of a hub's edges (its
        edge count) when they do not change."""
        edges = new["edges"]
        if type(edges) is list:
            self._write_edges(batch, id16, old, edges)
            payload = orjson.dumps(new if len(edges) <= adjacency.MAX_INLINE else {**new, "edges": len(edges)})
        else:
            payload = orjson.dumps(new)
        self._put_entity(batch, schema, old, new, id16, payload)

    def write_edge_source(self, batch: Batch, schema: TableSchema, old: dict[str, Any], new: dict[str, Any],
                          id16: bytes) -> None:
        """Rewrite a stored entity whose edges the caller changed through :class:`EdgeChanges` (``new``: its
        stored form with the new ``edges`` and ``modified_at``)."""
        batch.put(ENTITIES, self.ks.entity(id16), orjson.dumps(new))
        if new["modified_at"] != old["modified_at"]:  # the one indexed field that changes
            prefix = self.ks.field_prefix(schema.short_name, "modified_at")
            batch.delete("field_index", prefix + self._timestamp(schema, old["modified_at"]) + id16)
            batch.put("field_index", prefix + self._timestamp(schema, new["modified_at"]) + id16)

    def _put_entity(self, batch: Batch, schema: TableSchema, old: dict[str, Any] | None, new: dict[str, Any],
                    id16: bytes, payload: bytes) -> None:
        batch.put(ENTITIES, self.ks.entity(id16), payload)
        self.field_names.note(batch, schema, new)
        field_keys = self.fields.entries(schema, new, id16)
        key_keys = self.keys.entries(schema, new, id16)
        if old is None:
            batch.put_keys("field_index", field_keys)
            batch.put_keys("key_index", key_keys)
        else:
            self._diff_entries(batch, "field_index", self.fields.entries(schema, old, id16), field_keys)
            self._diff_entries(batch, "key_index", self.keys.entries(schema, old, id16), key_keys)

    def _timestamp(self, schema: TableSchema, text: str) -> bytes:
        """A ``modified_at`` index value (cached: the rows of a batch share their timestamps)."""
        raw = self._timestamps.get(text)
        if raw is None:
            if len(self._timestamps) > 256:
                self._timestamps.clear()
            raw = self._timestamps[text] = self.fields.encode(schema, "modified_at", text)
        return raw

    def exist(self, ids: list[bytes]) -> set[bytes]:
        """Which of ``ids`` are stored entities (live or soft-deleted). Callers hold the lock."""
        known = self.known
        unknown = [i for i in ids if i not in known]
        if not unknown:
            return set(ids)
        raws = self.store.multi_get(ENTITIES, [self.ks.entity(i) for i in unknown])
        found = {i for i, raw in zip(unknown, raws, strict=True) if raw is not None}
        if len(known) + len(found) > MAX_KNOWN:
            known.clear()
        known.update(found)
        return found.union(i for i in ids if i in known)

    def rel_key(self, rel_type: str) -> bytes:
        """A relation type encoded as in edge keys (cached)."""
        raw = self._rel_keys.get(rel_type)
        if raw is None:
            raw = self._rel_keys[rel_type] = encode_str(rel_type)
        return raw

    def _write_edges(self, batch: Batch, id16: bytes, old: dict[str, Any] | None,
                     edges: list[dict[str, Any]]) -> None:
        """Stage the difference between ``old``'s edges and ``edges``."""
        before = old.get("edges") if old else None
        if type(before) is int:  # a stored hub: read the edges it has
            before = self.edge_reader(id16)
        if edges or before:
            EdgeChanges.of(batch, self.store, self.ks).replace(id16, before or [], edges, self.rel_key)

    def remove_record(self, batch: Batch, schema: TableSchema, old: dict[str, Any], id16: bytes,
                      going: set[bytes] | None = None, rewrites: dict[bytes, Any] | None = None) -> None:
        """Delete an entity and everything that points at it.

        ``going`` are the ids removed by the same batch; ``rewrites`` collects the sources whose edges
        change (written by :meth:`flush_rewrites`, once each, when the caller passes its own dict).
        """
        batch.delete(ENTITIES, self.ks.entity(id16))
        self.known.discard(id16)
        if self.embedder is not None and schema.embedding_fields:
            self.embedder.remove(batch, schema, old, id16)
        self._diff_entries(batch, "field_index", self.fields.entries(schema, old, id16), set())
        self._diff_entries(batch, "key_index", self.keys.entries(schema, old, id16), set())
        changes = EdgeChanges.of(batch, self.store, self.ks)
        changes.drop(id16)
        prefix = self.ks.edges_of(id16)
        start = len(prefix)
        for key in list(self.store.scan_keys("edges", prefix, successor(prefix))):  # its outgoing edges
            changes.unlink(id16, key[start:-16], key[-16:])
        own = rewrites is None
        rewrites = {} if rewrites is None else rewrites
        self._drop_incoming(old["id"], id16, going or {id16}, rewrites)
        if own:
            self.flush_rewrites(batch, rewrites)

    def _drop_incoming(self, ident: str, id16: bytes, going: set[bytes], rewrites: dict[bytes, Any]) -> None:
        """Take edges pointing at a hard-deleted entity out of their sources (staged in ``rewrites``)."""
        prefix = self.ks.edges_of(id16)
        sources = {key[-16:] for key in self.store.scan_keys("reverse_edges", prefix, successor(prefix))}
        sources -= going
        fetch = [s for s in sources if s not in rewrites]
        for src16, record in zip(fetch, self.get_many(fetch), strict=True):
            if record is not None:
                rewrites[src16] = (record, record)
        now = now_iso()
        for src16 in sources & rewrites.keys():
            original, current = rewrites[src16]
            kept = [e for e in current.get("edges") or [] if e["dst"] != ident]
            rewrites[src16] = (original, {**current, "edges": kept, "modified_at": now})

    def flush_rewrites(self, batch: Batch, rewrites: dict[bytes, Any]) -> None:
        for src16, (original, new) in rewrites.items():
            if new is not original:
                self.write_record(batch, self.schema_of(original["entity_type"]), original, new, src16)

    def _diff_entries(self, batch: Batch, cf: str, old: set[bytes], new: set[bytes]) -> None:
        for key in old - new:
            batch.delete(cf, key)
        batch.put_keys(cf, new - old)

    def commit(self, batch: Batch) -> int:
        """Write the batch through the store's commit path (one atomic write with its WAL record; its
        ``on_commit`` hooks run there); returns the WAL sequence."""
        try:
            seq = self.store.write(batch)
        except Exception:
            if self.embedder is not None:
                self.embedder.forget()
            raise
        self.generation += 1
        return seq

    # -- maintenance -------------------------------------------------------------------------------
    def reindex(self, old_schema: TableSchema, new_schema: TableSchema) -> int:
        """Rewrite a table's field and key index entries after its indexed/key settings changed."""
        table = new_schema.short_name
        changed = 0
        with self.lock:
            ids = list(self.fields.table_ids(table))
            for start in range(0, len(ids), READ_CHUNK):
                chunk = ids[start:start + READ_CHUNK]
                batch = self.store.batch()
                for id16, record in zip(chunk, self.get_many(chunk), strict=True):
                    if record is None:
                        continue
                    for index, cf in ((self.fields, "field_index"), (self.keys, "key_index")):
                        self._diff_entries(batch, cf, index.entries(old_schema, record, id16),
                                           index.entries(new_schema, record, id16))
                    changed += 1
                self.store.write(batch)
        return changed


def _patched(old: dict[str, Any], patch: Any, schema: TableSchema) -> dict[str, Any]:
    data = to_plain(patch, RowRef(schema.short_name))
    merged = user_fields(old)
    merged.update(data)
    merged["id"] = old["id"]
    return merged
