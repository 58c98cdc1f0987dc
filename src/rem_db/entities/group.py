"""One atomic write across tables: upserts into several tables and hard deletes, in a single batch.

``EntityEngine.put_many`` writes one table. Replacing the chunks of a changed document needs more in one
commit: the ``documents`` row (new hash, ``has_chunk`` edges), the new chunks (another table, embedded) and
the removal of the chunks that are gone, with their vectors, postings and the edges pointing at them. This
module builds that batch from the engine's own steps (validate, embed outside the lock, stage, write,
remove), so every index, vector, edge and WAL record of the group commits together or not at all.

A document too large for one batch is written in parts (``rem_db.ingest.staging``): its chunks are hidden
rows (:mod:`.hidden`) until :func:`write_document` commits the document, and :func:`purge_hidden` deletes
hidden rows in bounded steps (the replaced chunks after a replacement; everything a crash left behind).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..embeddings.vectors import text_of
from ..errors import ValidationError
from ..graph import adjacency as adj
from ..graph.changes import EdgeChanges
from ..graph.resolve import resolve_edge_keys
from ..schema.model import TableSchema
from ..storage.batch import Batch
from ..storage.codec import now_iso, successor
from .hidden import META, HiddenRows, part_value, read_parts
from .records import Incoming, prepare

if TYPE_CHECKING:
    from .engine import EntityEngine

log = logging.getLogger("rem_db.ingest")
PURGE_STEP = 256  # hidden rows deleted per batch: bounds the batch (postings, vectors, index entries)


def write_group(engine: EntityEngine, puts: Sequence[tuple[str, Sequence[Any]]], remove: Iterable[bytes] = (),
                embed_mode: str = "sync", progress: Any = None, *, reuse: Mapping[bytes, bytes] | None = None,
                stage: Callable[[Batch], None] | None = None) -> list[list[dict[str, Any]]]:
    """Upsert ``rows`` into each ``(table, rows)`` of ``puts`` and hard-delete the entities ``remove``
    (16-byte ids; ones already gone are ignored), all in one atomic batch.

    Rows follow the rules of ``put_many`` (validation, deterministic ids, edges merged by (dst, rel_type)
    and checked against the stored entities and the rows of the group). A hard-deleted entity takes its
    index entries, vectors, postings and every edge into or out of it along; edges that rows of the group
    hold to it are dropped from them. Rows are embedded (``embed_mode`` as in ``put_many``) before the
    write lock is taken. Returns the written records, one list per entry of ``puts``. Nothing is written
    when any row is invalid.

    ``reuse`` maps the id of a new row to the id of a stored one whose vectors it takes when both embed
    the same text (a chunk that moved to another id); ``stage(batch)`` adds the caller's own operations
    to the batch, under the write lock, just before it commits.
    """
    going = list(dict.fromkeys(remove))
    prepared: list[tuple[TableSchema, list[Incoming]]] = []
    for table, rows in puts:
        schema = engine.schema_of(table)
        prepared.append((schema, [prepare(schema, row, n) for n, row in enumerate(rows)]))
    put_ids = {inc.id16 for _, incoming in prepared for inc in incoming}
    clash = put_ids.intersection(going)
    if clash:
        raise ValidationError(f"entity {uuid.UUID(bytes=next(iter(clash)))} is both written and removed "
                              f"by one group write")
    plans = [_plan(engine, schema, incoming, embed_mode, progress, reuse)
             for schema, incoming in prepared if incoming]
    with engine.lock:
        for schema, incoming in prepared:
            resolve_edge_keys(engine, schema, incoming)
        now = now_iso()
        wanted = list(dict.fromkeys([*(inc.id16 for _, incoming in prepared for inc in incoming), *going]))
        before = dict(zip(wanted, engine.get_many(wanted), strict=True))
        staged: dict[bytes, dict[str, Any]] = {}
        schemas: dict[bytes, TableSchema] = {}
        for schema, incoming in prepared:
            for inc in incoming:
                staged[inc.id16] = engine._upserted(schema, inc, staged.get(inc.id16) or before.get(inc.id16), now)
                schemas[inc.id16] = schema
        removed = {id16 for id16 in going if before.get(id16) is not None}
        for schema, incoming in prepared:
            _check_targets(engine, schema, incoming, staged, removed)
        batch = engine.store.batch()
        # staged rows that already exist go through the engine's edge rewrites, so removing a chunk also
        # drops the edge a staged row (the document) holds to it
        rewrites: dict[bytes, Any] = {i: (before[i], r) for i, r in staged.items() if before.get(i) is not None}
        for id16 in removed:
            old = before[id16]
            assert old is not None  # removed holds only ids found in before
            engine.remove_record(batch, engine.schema_of(old["entity_type"]), old, id16, removed, rewrites)
        for id16, record in staged.items():
            final = rewrites.pop(id16)[1] if id16 in rewrites else record
            final["edges"] = [e for e in final.get("edges") or [] if uuid.UUID(e["dst"]).bytes not in removed]
            staged[id16] = final
            engine.write_record(batch, schemas[id16], before.get(id16), final, id16)
        engine.flush_rewrites(batch, rewrites)
        for plan in plans:
            if plan is not None:
                engine.embedder.apply(batch, plan, before)
        if stage is not None:
            stage(batch)
        engine.commit(batch)
    return [[staged[inc.id16] for inc in incoming] for _, incoming in prepared]


def _plan(engine: EntityEngine, schema: TableSchema, incoming: list[Incoming], mode: str, progress: Any,
          reuse: Mapping[bytes, bytes] | None) -> Any:
    """The embedding plan of one table's rows; rows of ``reuse`` whose text equals their source's take its
    stored vectors instead of being embedded again."""
    if not reuse or engine.embedder is None or not schema.embedding_fields or mode != "sync":
        return engine._embed_plan(schema, incoming, mode, progress=progress)
    embedder, fields, table = engine.embedder, schema.embedding_fields, schema.short_name
    moved = [inc for inc in incoming if inc.id16 in reuse]
    sources = [reuse[inc.id16] for inc in moved]
    old = dict(zip(sources, engine.get_stored_many(sources), strict=True))
    specs = embedder.specs(schema)
    stored = {spec: dict(zip(sources, embedder.vectors.get_many(table, spec, sources), strict=True))
              for spec in specs}
    copied: dict[bytes, tuple[str, bytes]] = {}
    for inc, source in zip(moved, sources, strict=True):
        record, text = old.get(source), text_of(fields, inc.user)
        if (record is not None and text and text == text_of(fields, record)
                and all(stored[spec].get(source) is not None for spec in specs)):
            copied[inc.id16] = (text, source)
    plan = engine._embed_plan(schema, [inc for inc in incoming if inc.id16 not in copied], mode, progress=progress)
    for id16, (text, source) in copied.items():
        plan.texts[id16] = text
        plan.compared[id16] = None  # a new row: nothing stored under its id
        for spec in specs:
            plan.embedded.setdefault(spec, {})[id16] = stored[spec][source]
    return plan


@dataclass
class HubEdges:
    """The edges of a document written by :func:`write_document` as a hub: its entity holds their ``count``;
    the caller names the edge keys that change (``links``: ``(rel key, dst id16, value)``, ``unlinks``:
    ``(rel key, dst id16)``)."""

    count: int
    links: list[tuple[bytes, bytes, bytes]] = field(default_factory=list)
    unlinks: list[tuple[bytes, bytes]] = field(default_factory=list)


def write_document(engine: EntityEngine, table: str, row: Any, edges: list[dict[str, Any]] | HubEdges,
                   stage: Callable[[Batch], None] | None = None) -> dict[str, Any]:
    """Upsert one row (given without ``edges``) whose edges the caller decides: ``edges`` is either its
    complete edge list (written as usual) or a :class:`HubEdges` plan, which never reads or rewrites the
    edges that stay. ``stage`` as in :func:`write_group`. Returns the stored record."""
    schema = engine.schema_of(table)
    inc = prepare(schema, row, None)
    with engine.lock:
        old = engine.get_stored(inc.id16)
        record = engine._upserted(schema, inc, old, now_iso())
        batch = engine.store.batch()
        if isinstance(edges, HubEdges):
            changes = EdgeChanges.of(batch, engine.store, engine.ks)
            changes.link_many(inc.id16, edges.links)
            for rel, dst16 in edges.unlinks:
                changes.unlink(inc.id16, rel, dst16)
            changes.pack(inc.id16, adj.overflow(edges.count))
            record["edges"] = edges.count
        else:
            record["edges"] = edges
        engine.write_record(batch, schema, old, record, inc.id16)
        if stage is not None:
            stage(batch)
        engine.commit(batch)
    return record


def remove_rows(engine: EntityEngine, batch: Batch, ids: list[bytes]) -> int:
    """Stage the hard delete of ``ids`` (missing ones ignored) with everything pointing at them, edges from
    sources that are not stored included (a document that never committed). Callers hold the lock."""
    going = set(ids)
    rewrites: dict[bytes, Any] = {}
    removed = 0
    for id16, record in zip(ids, engine.get_stored_many(ids), strict=True):
        if record is None:
            continue
        dangling = _incoming(engine, id16)
        engine.remove_record(batch, engine.schema_of(record["entity_type"]), record, id16, going, rewrites)
        sources = list({src for _, src in dangling} - going)
        found = engine.exist(sources) if sources else set()
        changes = EdgeChanges.of(batch, engine.store, engine.ks)
        for rel, src16 in dangling:
            if src16 not in found and src16 not in going:
                changes.unlink(src16, rel, id16)
        removed += 1
    engine.flush_rewrites(batch, rewrites)
    return removed


def _incoming(engine: EntityEngine, id16: bytes) -> list[tuple[bytes, bytes]]:
    """``(rel key, source id16)`` of the edges pointing at an entity."""
    prefix = engine.ks.edges_of(id16)
    start = len(prefix)
    return [(key[start:-16], key[-16:]) for key in engine.store.scan_keys("reverse_edges", prefix, successor(prefix))]


def purge_hidden(engine: EntityEngine, doc16: bytes | None = None, step: int = PURGE_STEP) -> int:
    """Hard-delete the hidden rows recorded for the document ``doc16``, or for every document that no
    ingest of this process is writing (a crash's leftovers), ``step`` rows per atomic batch; each batch
    also shrinks the record, so an interrupted purge goes on where it stopped. Returns the rows removed."""
    hidden = engine.hidden
    removed = 0
    with hidden.purging:
        for part in list(read_parts(engine.store, engine.ks, doc16 or b"")):
            if doc16 is None and part.doc16 in hidden.active:
                continue
            ids = part.ids
            while ids:
                if doc16 is None and hidden.closing.is_set():
                    return removed
                now, ids = ids[:step], ids[step:]
                with engine.lock:
                    batch = engine.store.batch()
                    removed += remove_rows(engine, batch, now)
                    if ids:
                        batch.put(META, part.key, part_value(part.table, ids))
                    else:
                        batch.delete(META, part.key)
                    batch.on_commit.append(functools.partial(_show, hidden, part.table, now))
                    engine.commit(batch)
    if removed:
        log.info("removed %d rows of unfinished or replaced ingests", removed)
    return removed


def _show(hidden: HiddenRows, table: str, ids: list[bytes], _seq: int) -> None:
    hidden.show(table, ids)


def _check_targets(engine: EntityEngine, schema: TableSchema, incoming: list[Incoming],
                   staged: dict[bytes, dict[str, Any]], removed: set[bytes]) -> None:
    """Edges given in the rows must point at entities that exist after the group (not at removed ones)."""
    for inc in incoming:
        for edge in inc.edges or []:
            if uuid.UUID(edge["dst"]).bytes in removed:
                raise ValidationError(f"{schema.short_name}: edge target {edge['dst']} is removed by the same "
                                      f"group write", table=schema.short_name, position=inc.position,
                                      field="edges")
    engine._check_edge_targets(schema, incoming, staged)
