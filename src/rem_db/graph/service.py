"""The :class:`Graph` facade: argument checks, id/key resolution and result shapes over the walks of
:mod:`.walk`, the adjacency reads of :mod:`.edges` and the writes of :mod:`.writes`. ``Database`` delegates
every graph method here (``db.graph`` is this object)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError
from . import writes
from .cache import AdjacencyCache, Generation
from .edges import Plan, RelNames, list_edges, neighbors_batch
from .ids import id16_of, id_text
from .options import (
    OPPOSITE,
    check_depth,
    check_direction,
    check_limit,
    check_rel_type,
    check_strategy,
    rel_filter,
)
from .project import check_fields, project, read_records
from .resolve import resolve_refs
from .walk import DeletedProbe, Parents, Walked, bfs, chain, dfs, shortest, skipped_ids

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine
    from ..schema.registry import SchemaRegistry


class Graph:
    """Graph reads and writes of one tenant."""

    def __init__(self, engine: EntityEngine, schemas: SchemaRegistry) -> None:
        self.engine = engine
        self.schemas = schemas
        self.cache = AdjacencyCache(engine.store)  # decoded lists and deleted ids, valid until the next write

    # -- helpers -----------------------------------------------------------------------------------
    def _entity(self, ref: Any, role: str, include_deleted: bool = True) -> tuple[bytes, dict[str, Any]]:
        """Resolve an id or key to (id16, stored record); :class:`NotFoundError` if there is none (or,
        without ``include_deleted``, if it is soft-deleted)."""
        (id16,) = resolve_refs(self.engine, [ref], role)
        record = self.engine.get_stored(id16)
        if record is None or (record.get("deleted_at") and not include_deleted):
            state = "is soft-deleted (pass include_deleted=True)" if record is not None else "does not exist"
            raise NotFoundError(f"{role} {ref!s} {state}")
        return id16, record

    def entity(self, ref: Any, include_deleted: bool = True) -> dict[str, Any]:
        """The entity named by an id or a key (:class:`NotFoundError` if none)."""
        id16, record = self._entity(ref, "entity", include_deleted)
        return self.engine.with_edges([record], [id16])[0]

    def _skip(self, include_deleted: bool, generation: Generation | None = None) -> Any:
        tables = tuple(s.short_name for s in self.schemas.all())
        if generation is None or include_deleted:
            return skipped_ids(self.engine, tables, include_deleted)
        skip = generation.skips.get(tables)
        if skip is None:
            skip = skipped_ids(self.engine, tables, include_deleted)
            if not isinstance(skip, DeletedProbe):  # a probe keeps the records one walk read
                generation.skips[tables] = skip
        return skip

    def _records(self, nodes: list[str], skip: Any) -> list[dict[str, Any] | None]:
        ids = [id16_of(n) for n in nodes]
        if isinstance(skip, DeletedProbe):
            return self.engine.with_edges([skip.records.get(n) for n in nodes], ids)
        return self.engine.get_many(ids)

    def _plan(self, direction: str, rels: Sequence[str] | None, generation: Generation | None = None) -> Plan:
        return Plan(self.engine.store, self.engine.ks, direction, rels, self.engine.packed_adjacency, generation)

    @staticmethod
    def _with_paths(found: list[tuple[str, int]], parents: Parents) -> Walked:
        """The ids and results of a DFS walk, paths built from its parent links (a node may be listed
        before the parent it was relabelled through, so paths are built by following the links)."""
        names = RelNames()
        paths: dict[str, list[dict[str, str]]] = {}
        out = []
        for node, _ in found:
            parent, rel = parents[node]
            before = paths.get(parent)
            if before is None:
                before = [{"id": n, "rel_type": names(r)} for n, r in chain(parents, parent)]
                paths[parent] = before
            path = paths[node] = [*before, {"id": node, "rel_type": names(rel)}]
            out.append({"id": node, "depth": len(path), "path": path})
        return [n for n, _ in found], out

    def _walk(self, start: Any, depth: int, direction: str, rel_type: Any, strategy: str, limit: int | None,
              include_deleted: bool) -> tuple[Walked, Any]:
        """Check the arguments and walk: (ids, results) in BFS or DFS order, and what was skipped."""
        check_depth(depth)
        check_direction(direction)
        rels = rel_filter(rel_type)
        strategy = check_strategy(strategy)
        limit = check_limit(limit)
        generation = self.cache.generation()  # before anything is read: a later write makes a new one
        start16, _ = self._entity(start, "traversal start", include_deleted)
        skip = self._skip(include_deleted, generation)
        plan = self._plan(direction, rels, generation)
        if strategy == "bfs":
            return bfs(plan, id_text(start16), depth, skip, limit), skip
        found, parents = dfs(plan, id_text(start16), depth, skip, limit)
        return self._with_paths(found, parents), skip

    # -- reads -------------------------------------------------------------------------------------
    def traverse(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                 strategy: str = "bfs", limit: int | None = None, include_deleted: bool = False,
                 fields: Any = None) -> list[dict[str, Any]]:
        wanted = check_fields(fields)
        (ids, found), skip = self._walk(start, depth, direction, rel_type, strategy, limit, include_deleted)
        if wanted is None:
            records = self._records(ids, skip)
        elif isinstance(skip, DeletedProbe) and "edges" not in wanted:  # the walk read them already
            records = [skip.records.get(n) for n in ids]
        else:
            records = read_records(self.engine, [id16_of(n) for n in ids], wanted)
        out = [{"entity": record, "depth": r["depth"], "path": r["path"]}
               for r, record in zip(found, records, strict=True)
               # None / deleted: removed or soft-deleted by another thread since the walk read the edges
               if record is not None and (include_deleted or record.get("deleted_at") is None)]
        if wanted is not None:
            for r in out:
                r["entity"] = project(r["entity"], wanted)
        return out

    def traverse_ids(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                     strategy: str = "bfs", limit: int | None = None,
                     include_deleted: bool = False) -> list[dict[str, Any]]:
        """Like :meth:`traverse` without reading the entities: ``{"id", "depth", "path"}`` per node."""
        return self._walk(start, depth, direction, rel_type, strategy, limit, include_deleted)[0][1]

    def shortest_path(self, a: Any, b: Any, max_depth: int = 6, direction: str = "both", rel_type: Any = None,
                      include_deleted: bool = False) -> dict[str, Any] | None:
        check_depth(max_depth, "max_depth")
        check_direction(direction)
        rels = rel_filter(rel_type)
        a16, a_record = self._entity(a, "path start", include_deleted)
        b16, _ = self._entity(b, "path end", include_deleted)
        skip = self._skip(include_deleted)
        hops = shortest(self._plan(direction, rels), self._plan(OPPOSITE[direction], rels), id_text(a16),
                        id_text(b16), max_depth, skip)
        if hops is None:
            return None
        names = RelNames()
        path = [{"id": n, "rel_type": names(r)} for n, r in hops]
        ids = [id16_of(n) for n, _ in hops]
        return {"length": len(hops), "path": path,
                "entities": self.engine.with_edges([a_record, *self.engine.get_stored_many(ids)], [a16, *ids])}

    def edges(self, ref: Any, direction: str = "out", rel_type: Any = None) -> list[dict[str, Any]]:
        check_direction(direction)
        rels = rel_filter(rel_type)
        id16, _ = self._entity(ref, "entity")
        return list_edges(self.engine.store, self.engine.ks, id16, direction, rels)

    def neighbors_batch(self, refs: Iterable[Any], direction: str = "out", rel_type: Any = None,
                        include_deleted: bool = False) -> dict[str, list[dict[str, str]]]:
        check_direction(direction)
        rels = rel_filter(rel_type)
        refs = list(refs)
        ids = resolve_refs(self.engine, refs, "entity")
        skip = self._skip(include_deleted)
        nodes = [id_text(i) for i in dict.fromkeys(ids)]
        found = neighbors_batch(self._plan(direction, rels), nodes)
        return {n: [{"id": other, "rel_type": rel, "direction": label} for label, rel, other in found[n]
                    if other not in skip] for n in nodes}

    # -- writes ------------------------------------------------------------------------------------
    def add_edge(self, src: Any, dst: Any, rel_type: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
        check_rel_type(rel_type)
        (edge,) = writes.add_edges(self.engine, [(src, dst, rel_type, properties)], want=True)
        return edge

    def add_edges(self, items: Iterable[Any]) -> int:
        items = list(items)
        writes.add_edges(self.engine, items)
        return len(items)

    def remove_edge(self, src: Any, dst: Any, rel_type: str) -> None:
        writes.remove_edge(self.engine, src, dst, rel_type)
