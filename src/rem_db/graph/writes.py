"""Edge changes: ``add_edges`` / ``remove_edge``. An edge belongs to its source entity: a change rewrites the
source's ``edges`` field (a hub's edge count) and ``modified_at`` with its index entry, puts or deletes both
edge keys and the source's packed list (:class:`~.changes.EdgeChanges`), and appends one ``edges`` WAL record
per source listing the edges put or removed (not the entity), all in one atomic write. So the ``edges`` field
always equals the forward edges, and replicas get the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..entities.records import to_plain
from ..errors import NotFoundError, ValidationError
from ..schema.validation import RowRef
from ..storage.codec import now_iso
from . import adjacency as adj
from .adjacency import EdgeValues, edge_value
from .changes import EdgeChanges
from .ids import id_text
from .options import check_rel_type
from .resolve import resolve_refs

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

EdgeItem = tuple[Any, Any, str, dict[str, Any]]
_NO_PROPS: dict[str, Any] = {}  # never changed: an edge's properties are replaced, not updated in place


def parse_item(n: int, item: Any) -> EdgeItem:
    """``(src, dst, rel_type[, properties])`` or ``{"src", "dst", "rel_type"[, "properties"]}``."""
    if isinstance(item, dict):
        unknown = set(item) - {"src", "dst", "rel_type", "properties"}
        if unknown or not {"src", "dst", "rel_type"} <= set(item):
            raise ValidationError(f"edge {n}: expected an object with src, dst, rel_type and optional properties, "
                                  f"got keys {sorted(item)}")
        src, dst, rel, props = item["src"], item["dst"], item["rel_type"], item.get("properties")
    elif isinstance(item, list | tuple) and len(item) in (3, 4):
        src, dst, rel = item[0], item[1], item[2]
        props = item[3] if len(item) == 4 else None
    else:
        raise ValidationError(f"edge {n}: expected (src, dst, rel_type[, properties]), got {item!r}")
    check_rel_type(rel, f"edge {n}: rel_type")
    if props is None:
        props = {}
    elif not isinstance(props, dict):
        raise ValidationError(f"edge {n}: properties must be an object (a dict), got {type(props).__name__}")
    elif props:
        props = to_plain(props, RowRef("edge properties", n))
    return src, dst, rel, props


def _fetch_sources(engine: EntityEngine, given: Sequence[Any], ids: Sequence[bytes]) -> dict[bytes, dict[str, Any]]:
    """The stored form of every source (live ones only: a soft-deleted entity does not change)."""
    unique = list(dict.fromkeys(ids))
    records = dict(zip(unique, engine.get_stored_many(unique), strict=True))
    engine.known.update(i for i, record in records.items() if record is not None)
    for id16, record in records.items():
        if record is None or record.get("deleted_at"):
            value = next(v for v, i in zip(given, ids, strict=True) if i == id16)
            state = "is soft-deleted" if record is not None else "does not exist"
            raise NotFoundError(f"edge source {value!s} {state}" + ("" if str(value) == id_text(id16)
                                                                    else f" (id {id_text(id16)})"))
    return records  # type: ignore[return-value]


def _check_targets(engine: EntityEngine, given: Sequence[Any], ids: Sequence[bytes], known: set[bytes]) -> None:
    """Every destination must be stored in the tenant (a soft-deleted one still exists)."""
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    missing = set(unknown) - engine.exist(unknown)
    if missing:
        value = next(v for v, i in zip(given, ids, strict=True) if i in missing)
        raise NotFoundError(f"edge destination {value!s} does not exist")


def add_edges(engine: EntityEngine, items: Iterable[Any], want: bool = False) -> list[dict[str, Any]]:
    """Add (or update: merge by (dst, rel_type), new properties win, ``created_at`` kept) many edges in one
    atomic batch. With ``want``, returns the edges (``{src, dst, rel_type, properties, created_at}``), one per
    distinct (src, dst, rel_type), the last given winning."""
    parsed = [(*item, _NO_PROPS) if type(item) is tuple and len(item) == 3 and type(item[2]) is str and item[2]
              else parse_item(n, item) for n, item in enumerate(items)]  # the bulk-load shape, inline
    if not parsed:
        return []
    with engine.lock:
        srcs = resolve_refs(engine, [p[0] for p in parsed], "edge source")
        dsts = resolve_refs(engine, [p[1] for p in parsed], "edge destination")
        records = _fetch_sources(engine, [p[0] for p in parsed], srcs)
        _check_targets(engine, [p[1] for p in parsed], dsts, set(records))
        grouped: dict[bytes, dict[tuple[str, bytes], dict[str, Any]]] = {s: {} for s in records}
        for (_, _, rel, props), src16, dst16 in zip(parsed, srcs, dsts, strict=True):
            grouped[src16][(rel, dst16)] = props  # the last one given wins
        now = now_iso()
        batch = engine.store.batch()
        add = _Adder(engine, EdgeChanges.of(batch, engine.store, engine.ks), now, want)
        for src16, given in grouped.items():
            record = records[src16]
            edges: Any
            if type(record.get("edges")) is int:
                changed, edges = add.to_hub(src16, record, given)  # the new edge count
            else:
                changed, edges = add.to_list(src16, record, given)
                if len(edges) > adj.MAX_INLINE:  # it became a hub
                    edges = len(edges)
            if changed:
                new = {**record, "edges": edges, "modified_at": now}
                engine.write_edge_source(batch, engine.schema_of(record["entity_type"]), record, new, src16)
        engine.commit(batch)
    return add.out


class _Adder:
    """The per-source steps of :func:`add_edges`."""

    def __init__(self, engine: EntityEngine, changes: EdgeChanges, now: str, want: bool) -> None:
        self.engine, self.changes, self.now, self.want = engine, changes, now, want
        self.fresh = edge_value({}, now)  # the value of every new edge without properties
        self.out: list[dict[str, Any]] = []

    def to_list(self, src16: bytes, record: dict[str, Any],
                given: dict[tuple[str, bytes], dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Merge ``given`` into a source that lists its edges; returns (edges put, the new edge list)."""
        rel_key, now = self.engine.rel_key, self.now
        entries = {(e["rel_type"], e["dst"]): e for e in record.get("edges") or ()}
        keyed: dict[tuple[str, str], tuple[bytes, bytes]] = {}  # the list key of each new or changed edge
        links, changed = [], []
        for (rel, dst16), props in given.items():
            h = dst16.hex()
            dst = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            prev = entries.get((rel, dst))
            if prev is not None and (prev.get("properties") or {}) == props:
                edge = prev  # unchanged
            else:
                created = now if prev is None else prev["created_at"]
                edge = entries[(rel, dst)] = {"dst": dst, "rel_type": rel, "properties": props, "created_at": created}
                raw = rel_key(rel)
                keyed[(rel, dst)] = (raw, dst.encode())
                links.append((raw, dst16, self.fresh if not props and prev is None else edge_value(props, created)))
                changed.append(edge)
            if self.want:
                self.out.append({"src": record["id"], **edge})
        if not changed:
            return [], []
        self.changes.link_many(src16, links)
        order = sorted((keyed.get(k) or (rel_key(k[0]), k[1].encode()), k) for k in entries)  # key order
        self.changes.pack(src16, adj.packed([key for key, _ in order]))
        return changed, [entries[k] for _, k in order]

    def to_hub(self, src16: bytes, record: dict[str, Any],
               given: dict[tuple[str, bytes], dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Add ``given`` to a hub (its entity holds its edge count); returns (edges put, the new count)."""
        engine, edge_key = self.engine, self.engine.ks.edge
        keys = [(engine.rel_key(rel), dst16) for rel, dst16 in given]
        found = engine.store.multi_get("edges", [edge_key(src16, r, d) for r, d in keys])
        values = EdgeValues()
        count = record["edges"]
        changed = []
        for ((rel, dst16), props), (raw, _), old in zip(given.items(), keys, found, strict=True):
            created = values(old)[1] if old is not None else self.now
            value = edge_value(props, created)
            edge = {"dst": id_text(dst16), "rel_type": rel, "properties": props, "created_at": created}
            if old != value:
                self.changes.link(src16, raw, dst16, value)
                changed.append(edge)
                count += old is None
            if self.want:
                self.out.append({"src": record["id"], **edge})
        if count != record["edges"]:
            self.changes.pack(src16, adj.overflow(count))
        return changed, count


def remove_edge(engine: EntityEngine, src: Any, dst: Any, rel_type: str) -> None:
    """Remove one edge; :class:`NotFoundError` when there is no such edge."""
    check_rel_type(rel_type)
    with engine.lock:
        src16, dst16 = resolve_refs(engine, [src, dst], "edge end")
        old = _fetch_sources(engine, [src], [src16])[src16]
        raw, target = engine.rel_key(rel_type), id_text(dst16)
        current = old.get("edges")
        edges: Any
        if type(current) is int:  # a hub
            if engine.store.get("edges", engine.ks.edge(src16, raw, dst16)) is None:
                raise NotFoundError(f"no edge {src!s} -[{rel_type}]-> {dst!s}")
            edges = current - 1
            if edges <= adj.REPACK_AT:  # small again: it lists its edges
                edges = _without(engine.edge_reader(src16), target, rel_type)
        else:
            edges = _without(current or [], target, rel_type)
            if len(edges) == len(current or ()):
                raise NotFoundError(f"no edge {src!s} -[{rel_type}]-> {dst!s}")
        batch = engine.store.batch()
        changes = EdgeChanges.of(batch, engine.store, engine.ks)
        changes.unlink(src16, raw, dst16)
        changes.pack(src16, adj.overflow(edges) if type(edges) is int else
                     adj.packed([(engine.rel_key(e["rel_type"]), e["dst"].encode()) for e in edges]))
        new = {**old, "edges": edges, "modified_at": now_iso()}
        engine.write_edge_source(batch, engine.schema_of(old["entity_type"]), old, new, src16)
        engine.commit(batch)


def _without(edges: list[dict[str, Any]], dst: str, rel_type: str) -> list[dict[str, Any]]:
    return [e for e in edges if not (e["dst"] == dst and e["rel_type"] == rel_type)]
