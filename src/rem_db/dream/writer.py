"""Writing a dream: the window's moments, their ``contains`` edges (moment → row or entity) and the
``captured_in`` edges (row or entity → moment), replacing the moments earlier dreams wrote inside the same
window and their edges, in ONE atomic batch (so a killed dream leaves the old state or the new one).

Moment ids derive from tenant + window + period (BLAKE3, as entity ids), so dreaming a window again rewrites
the same moments. Edges that stay keep their ``created_at``. The rows that gain or lose a ``captured_in``
edge keep their ``modified_at``: dreaming is not a change of the user's data, and a bumped ``modified_at``
would bring every dreamed row back into the next dream's window.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..entities.engine import EntityEngine
from ..entities.ids import hashed_uuid
from ..entities.records import merge_edges, prepare
from ..errors import ValidationError
from ..graph.ids import as_id16
from ..schema.model import TableSchema
from ..storage.codec import now_iso, parse_timestamp, successor
from .window import Window

MOMENTS = "moments"
CONTAINS = "contains"
CAPTURED_IN = "captured_in"


@dataclass
class PlannedMoment:
    """One moment to store: its row (``id`` included) and the ids it ``contains``; ``captured`` says whether
    those rows get a ``captured_in`` edge back (not for the window summary, whose members are moments)."""

    row: dict[str, Any]
    members: list[str] = field(default_factory=list)
    captured: bool = True

    @property
    def id(self) -> str:
        return str(self.row["id"])


def moment_id(tenant: str, window: Window, part: str) -> str:
    """The id of one moment of a window: ``dream:{tenant}:{start}:{end}:{part}`` hashed like entity ids."""
    return str(hashed_uuid(f"dream:{tenant}:{window.start_iso}:{window.end_iso}:{part}"))


def previous_moments(engine: EntityEngine, schema: TableSchema, window: Window) -> list[dict[str, Any]]:
    """The moments earlier dreams wrote inside the window (``start_time`` and ``end_time`` in it); moments
    written by users (no ``metadata.dream``) are never replaced."""
    ids = list(engine.fields.range_ids(schema, "start_time", window.start_iso, window.end_iso, True, False))
    out = []
    for record in engine.get_many(ids):
        if record is None or not isinstance((record.get("metadata") or {}).get("dream"), dict):
            continue
        end = parse_timestamp(record.get("end_time") or "")
        if end is not None and end < window.end:
            out.append(record)
    return out


def _sources(engine: EntityEngine, moment_ids: list[bytes]) -> set[bytes]:
    """The rows with a ``captured_in`` edge into any of ``moment_ids``."""
    rel = engine.rel_key(CAPTURED_IN)
    found: set[bytes] = set()
    for id16 in moment_ids:
        prefix = engine.ks.edges_of(id16) + rel
        found.update(key[-16:] for key in engine.store.scan_keys("reverse_edges", prefix, successor(prefix)))
    return found


def _edge(dst: str, rel: str) -> dict[str, Any]:
    return {"dst": dst, "rel_type": rel, "properties": {}, "created_at": None}


def _same_edges(a: Any, b: Any) -> bool:
    key = lambda e: (e["rel_type"], e["dst"], e.get("properties") or {}, e.get("created_at"))  # noqa: E731
    return type(a) is list and type(b) is list and [key(e) for e in a] == [key(e) for e in b]


def write(engine: EntityEngine, schema: TableSchema, window: Window, planned: list[PlannedMoment]) -> dict[str, int]:
    """Store ``planned`` as the window's moments in one atomic batch; returns what changed: ``written``,
    ``removed`` (earlier moments of the window not written again), ``rows_linked`` (rows whose edges
    changed)."""
    incoming = [prepare(schema, m.row, n) for n, m in enumerate(planned)]
    new_ids = [inc.id16 for inc in incoming]
    plan = None
    if engine.embedder is not None and schema.embedding_fields:
        outside = dict(zip(new_ids, engine.get_many(new_ids), strict=True))
        plan = engine.embedder.prepare(schema, {inc.id16: inc.user for inc in incoming}, outside, "sync")
    with engine.lock:
        old = previous_moments(engine, schema, window)
        old_ids = {as_id16(r["id"]) or b"" for r in old}
        window_ids = old_ids | set(new_ids)
        before = dict(zip(new_ids, engine.get_many(new_ids), strict=True))
        wanted = [i for m in planned for i in m.members]
        # rows deleted meanwhile are left out; the window summary contains moments of this batch
        present = engine.exist([as_id16(i) or b"" for i in dict.fromkeys(wanted)]) | set(new_ids)
        now = now_iso()
        batch = engine.store.batch()
        captured: dict[bytes, list[dict[str, Any]]] = {}  # row -> its captured_in edges
        for inc, moment in zip(incoming, planned, strict=True):
            prev = before[inc.id16]
            if prev is not None and prev["entity_type"] != MOMENTS:
                raise ValidationError(f"moment id {inc.id} already belongs to table {prev['entity_type']!r}")
            members = [m for m in dict.fromkeys(moment.members) if (as_id16(m) or b"") in present]
            keep = set(members)
            kept = [e for e in (prev or {}).get("edges") or []
                    if e["rel_type"] != CONTAINS or e["dst"] in keep]  # edges users added stay
            edges = merge_edges(kept, [_edge(m, CONTAINS) for m in members], now)
            record = {"id": str(inc.id), "entity_type": MOMENTS, **inc.user,
                      "created_at": prev["created_at"] if prev else now, "modified_at": now, "deleted_at": None,
                      "edges": edges}
            engine.write_record(batch, schema, prev, record, inc.id16)
            if moment.captured:
                for member in members:
                    captured.setdefault(as_id16(member) or b"", []).append(_edge(str(inc.id), CAPTURED_IN))
        if plan is not None:
            engine.embedder.apply(batch, plan, before)
        rows = (set(captured) | _sources(engine, list(old_ids))) - window_ids
        changed = _relink(engine, batch, sorted(rows), captured, window_ids, now)
        going = window_ids | rows
        rewrites: dict[bytes, Any] = {}
        removed = [r for r in old if (as_id16(r["id"]) or b"") not in set(new_ids)]
        for gone in engine.get_stored_many([as_id16(r["id"]) or b"" for r in removed]):
            if gone is not None:
                engine.remove_record(batch, schema, gone, as_id16(gone["id"]) or b"", going, rewrites)
        engine.flush_rewrites(batch, rewrites)  # edges users drew into a removed moment
        engine.commit(batch)
    return {"written": len(planned), "removed": len(removed), "rows_linked": changed}


def _relink(engine: EntityEngine, batch: Any, rows: list[bytes], captured: dict[bytes, list[dict[str, Any]]],
            window_ids: set[bytes], now: str) -> int:
    """Give each row exactly its ``captured_in`` edges into the window's moments (others untouched)."""
    changed = 0
    window_text = {str(uuid.UUID(bytes=i)) for i in window_ids}
    for id16, record in zip(rows, engine.get_many(rows), strict=True):
        if record is None:
            continue
        want = captured.get(id16, [])
        wanted_dst = {e["dst"] for e in want}
        old_edges = record.get("edges") or []
        kept = [e for e in old_edges
                if not (e["rel_type"] == CAPTURED_IN and e["dst"] in window_text and e["dst"] not in wanted_dst)]
        edges = merge_edges(kept, want, now)
        if _same_edges(edges, old_edges):
            continue
        new = {**record, "edges": edges}  # modified_at kept: see the module docstring
        engine.write_record(batch, engine.schema_of(record["entity_type"]), record, new, id16)
        changed += 1
    return changed
