"""One atomic write across tables: upserts into several tables and hard deletes, in a single batch.

``EntityEngine.put_many`` writes one table. Replacing the chunks of a changed document needs more in one
commit: the ``documents`` row (new hash, ``has_chunk`` edges), the new chunks (another table, embedded) and
the removal of the chunks that are gone, with their vectors, postings and the edges pointing at them. This
module builds that batch from the engine's own steps (validate, embed outside the lock, stage, write,
remove), so every index, vector, edge and WAL record of the group commits together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..graph.resolve import resolve_edge_keys
from ..schema.model import TableSchema
from ..storage.codec import now_iso
from .records import Incoming, prepare

if TYPE_CHECKING:
    from .engine import EntityEngine


def write_group(engine: EntityEngine, puts: Sequence[tuple[str, Sequence[Any]]], remove: Iterable[bytes] = (),
                embed_mode: str = "sync", progress: Any = None) -> list[list[dict[str, Any]]]:
    """Upsert ``rows`` into each ``(table, rows)`` of ``puts`` and hard-delete the entities ``remove``
    (16-byte ids; ones already gone are ignored), all in one atomic batch.

    Rows follow the rules of ``put_many`` (validation, deterministic ids, edges merged by (dst, rel_type)
    and checked against the stored entities and the rows of the group). A hard-deleted entity takes its
    index entries, vectors, postings and every edge into or out of it along; edges that rows of the group
    hold to it are dropped from them. Rows are embedded (``embed_mode`` as in ``put_many``) before the
    write lock is taken. Returns the written records, one list per entry of ``puts``. Nothing is written
    when any row is invalid.
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
    plans = [engine._embed_plan(schema, incoming, embed_mode, progress=progress)
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
        engine.commit(batch)
    return [[staged[inc.id16] for inc in incoming] for _, incoming in prepared]


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
