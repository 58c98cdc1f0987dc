"""Edge changes. An edge belongs to its source entity: adding or removing one rewrites the source's
``edges`` list through the entity engine's write path (:meth:`EntityEngine.write_record`), which puts the
entity, its index entries, both edge keys and its WAL record in one atomic batch. So the ``edges`` field of
an entity always equals its forward edges, and every change is replicated like any other write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..entities.records import merge_edges, now_iso, to_plain
from ..errors import NotFoundError, ValidationError
from ..schema.validation import RowRef
from .ids import id_text
from .options import check_rel_type
from .resolve import resolve_refs

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

EdgeItem = tuple[Any, Any, str, dict[str, Any]]


def parse_item(n: int, item: Any) -> EdgeItem:
    """``(src, dst, rel_type[, properties])`` or ``{"src", "dst", "rel_type"[, "properties"]}``."""
    if type(item) is tuple and len(item) == 3 and type(item[2]) is str and item[2]:  # the bulk-load shape
        return item[0], item[1], item[2], {}
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
    unique = list(dict.fromkeys(ids))
    records = dict(zip(unique, engine.get_many(unique), strict=True))
    for value, id16 in zip(given, ids, strict=True):
        record = records[id16]
        if record is None or record.get("deleted_at"):
            state = "is soft-deleted" if record is not None else "does not exist"
            raise NotFoundError(f"edge source {value!s} {state}" + ("" if str(value) == id_text(id16)
                                                                    else f" (id {id_text(id16)})"))
    return records  # type: ignore[return-value]


def _check_targets(engine: EntityEngine, given: Sequence[Any], ids: Sequence[bytes], known: set[bytes]) -> None:
    """Every destination must be stored in the tenant (a soft-deleted one still exists)."""
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    raws = engine.store.multi_get("entities", [engine.ks.entity(i) for i in unknown])
    missing = {i for i, raw in zip(unknown, raws, strict=True) if raw is None}
    if missing:
        value = next(v for v, i in zip(given, ids, strict=True) if i in missing)
        raise NotFoundError(f"edge destination {value!s} does not exist")


def add_edges(engine: EntityEngine, items: Iterable[Any]) -> dict[bytes, dict[str, Any]]:
    """Add (or update: merge by (dst, rel_type), new properties win, ``created_at`` kept) many edges in one
    atomic batch. Returns the rewritten source entities by id."""
    parsed = [parse_item(n, item) for n, item in enumerate(items)]
    if not parsed:
        return {}
    with engine.lock:
        srcs = resolve_refs(engine, [p[0] for p in parsed], "edge source")
        dsts = resolve_refs(engine, [p[1] for p in parsed], "edge destination")
        records = _fetch_sources(engine, [p[0] for p in parsed], srcs)
        _check_targets(engine, [p[1] for p in parsed], dsts, set(records))
        grouped: dict[bytes, list[dict[str, Any]]] = {}
        for (_, _, rel, props), src16, dst16 in zip(parsed, srcs, dsts, strict=True):
            grouped.setdefault(src16, []).append({"dst": id_text(dst16), "rel_type": rel, "properties": props,
                                                  "created_at": None})
        now = now_iso()
        batch = engine.store.batch()
        written = {}
        for src16, new in grouped.items():
            old = records[src16]
            record = {**old, "edges": merge_edges(old.get("edges") or [], new, now), "modified_at": now}
            engine.write_record(batch, engine.schema_of(old["entity_type"]), old, record, src16)
            written[src16] = record
        engine.commit(batch)
    return written


def remove_edge(engine: EntityEngine, src: Any, dst: Any, rel_type: str) -> dict[str, Any]:
    """Remove one edge; :class:`NotFoundError` when there is no such edge. Returns the source entity."""
    check_rel_type(rel_type)
    with engine.lock:
        src16, dst16 = resolve_refs(engine, [src, dst], "edge end")
        old = _fetch_sources(engine, [src], [src16])[src16]
        target = id_text(dst16)
        edges = old.get("edges") or []
        kept = [e for e in edges if not (e["dst"] == target and e["rel_type"] == rel_type)]
        if len(kept) == len(edges):
            raise NotFoundError(f"no edge {src!s} -[{rel_type}]-> {dst!s}")
        record = {**old, "edges": kept, "modified_at": now_iso()}
        batch = engine.store.batch()
        engine.write_record(batch, engine.schema_of(old["entity_type"]), old, record, src16)
        engine.commit(batch)
    return record
