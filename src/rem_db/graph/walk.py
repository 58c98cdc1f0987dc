"""Walks over ids: breadth-first and depth-first traversal with depth labels and parent links, and the
bidirectional breadth-first shortest path. Nothing here reads entities; :mod:`.service` turns the ids into
results.

Costs are kept to what RocksDB must do: one prefix scan per expanded node (per column family and followed
relation type), keys only, and a set lookup per edge to skip seen and soft-deleted nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rocksdict import ReadOptions

from ..index.fields import ROWS_FIELD
from ..storage.codec import TAG_NULL, decode_str, successor
from .edges import Plan

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

#: Soft-deleted rows read into a set before a walk; beyond this many the walk checks each node it reaches.
MAX_DELETED_SET = 4096
_NOT_NULL = bytes((TAG_NULL + 1,))

Parents = dict[bytes, Any]  # id16 -> (parent id16, edge key) | None for the start


class DeletedProbe:
    """``id16 in probe`` is true for an id that is soft-deleted or missing; reads each entity once and keeps
    it (``records``), so the results reuse what the walk read."""

    __slots__ = ("engine", "records")

    def __init__(self, engine: EntityEngine) -> None:
        self.engine = engine
        self.records: dict[bytes, dict[str, Any] | None] = {}

    def __contains__(self, id16: object) -> bool:
        records = self.records
        if id16 in records:
            record = records[id16]
        else:
            record = records[id16] = self.engine.get(id16)  # type: ignore[arg-type]
        return record is None or record.get("deleted_at") is not None


def skipped_ids(engine: EntityEngine, tables: Iterable[str], include_deleted: bool) -> Any:
    """What a walk must not enter: nothing with ``include_deleted``; else the soft-deleted ids of the
    tenant (read from the ``deleted_at`` index, where they are the non-null entries of each table) when
    there are at most :data:`MAX_DELETED_SET` of them, else a :class:`DeletedProbe`."""
    if include_deleted:
        return frozenset()
    store, ks = engine.store, engine.ks
    cf = store.cfs["field_index"]
    found: set[bytes] = set()
    for table in tables:
        prefix = ks.field_prefix(table, ROWS_FIELD)
        opts = ReadOptions()
        opts.set_iterate_upper_bound(successor(prefix))
        for key in cf.keys(from_key=prefix + _NOT_NULL, read_opt=opts):
            found.add(key[-16:])
            if len(found) > MAX_DELETED_SET:
                return DeletedProbe(engine)
    return found


Hop = dict[str, str]
Found = list[tuple[bytes, list[Hop]]]


def bfs_paths(plan: Plan, start: bytes, depth: int, skip: Any, limit: int | None) -> Found:
    """Breadth-first from ``start`` up to ``depth`` hops, each node listed once (the start never), at its
    shortest distance, with its path (hops ``{"id", "rel_type"}`` from the start) as it finds the
    node, in the same pass: ``[(id16, path), ...]`` in discovery order. This is the traversal hot loop: one
    prefix scan per expanded node, and per edge a key slice, two set/dict lookups and, for a new node, its
    id text, one hop dict and one path list. A node's hop dict is shared by the paths of everything reached
    through it (each path is its own list)."""
    paths: dict[bytes, list[Hop]] = {start: []}
    found: Found = []
    if limit == 0:
        return found
    room = limit if limit is not None else -1
    base, families, cut = plan.prefix, plan.families, plan.start
    names: dict[bytes, str] = {}
    frontier = [start]
    for _ in range(depth):
        following: list[bytes] = []
        for node in frontier:
            before = paths[node]
            head = base + node
            for cf, suffixes, _ in families:
                for suffix in suffixes:
                    prefix = head + suffix
                    opts = ReadOptions()
                    opts.set_iterate_upper_bound(successor(prefix))
                    for key in cf.keys(from_key=prefix, read_opt=opts):
                        other = key[-16:]
                        if other in paths or (skip and other in skip):
                            continue
                        raw = key[cut:-16]
                        rel = names.get(raw)
                        if rel is None:
                            rel = names[raw] = decode_str(raw)[0]
                        h = other.hex()
                        path = paths[other] = [*before, {"id": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",
                                                         "rel_type": rel}]
                        following.append(other)
                        found.append((other, path))
                        if len(found) == room:
                            return found
        if not following:
            break
        frontier = following
    return found


def dfs(plan: Plan, start: bytes, depth: int, skip: Any, limit: int | None) -> tuple[list[tuple[bytes, int]], Parents]:
    """Depth-first (pre-order) from ``start`` up to ``depth`` hops.

    A node is listed once, when first reached. When it is reached again by a shorter path it is explored
    again from there, so the nodes found are exactly those within ``depth`` hops (as with BFS) and, without
    a limit, each ends labelled with its shortest distance and a path of that length.
    """
    best: dict[bytes, int] = {start: 0}
    parents: Parents = {start: None}
    order: list[bytes] = []
    if limit == 0:
        return [], parents
    stack = [(start, 0, plan.scan(start))]
    while stack:
        node, d, edges = stack[-1]
        if best[node] < d:  # reached again by a shorter path since this frame was pushed: it is explored there
            stack.pop()
            continue
        for key, other in edges:
            if other in skip:
                continue
            step = d + 1
            known = best.get(other)
            if known is None:
                order.append(other)
            elif step >= known:
                continue
            best[other] = step
            parents[other] = (node, key)
            if len(order) == limit:
                return [(n, best[n]) for n in order], parents
            if step < depth:
                stack.append((other, step, plan.scan(other)))
                break
        else:
            stack.pop()
    return [(n, best[n]) for n in order], parents


def chain(parents: Parents, node: bytes) -> list[tuple[bytes, bytes]]:
    """``[(node id16, edge key), ...]`` from the start's first hop to ``node``."""
    hops = []
    link = parents[node]
    while link is not None:
        hops.append((node, link[1]))
        node = link[0]
        link = parents[node]
    hops.reverse()
    return hops


def shortest(forward: Plan, backward: Plan, a: bytes, b: bytes, max_depth: int,
             skip: Any) -> list[tuple[bytes, bytes]] | None:
    """Bidirectional BFS: ``[(node id16, edge key), ...]`` hops of a shortest path from ``a`` to ``b`` of
    at most ``max_depth`` edges (``[]`` when a == b), or ``None``.

    ``forward`` reads edges in the walk's direction from ``a``; ``backward`` the opposite direction from
    ``b``. The side with the smaller frontier expands one full level at a time; the first level where the
    two searches touch holds a shortest meeting point.
    """
    if a == b:
        return []
    side_a: dict[bytes, Any] = {a: (None, None, 0)}  # id16 -> (previous toward a, edge key, distance from a)
    side_b: dict[bytes, Any] = {b: (None, None, 0)}  # id16 -> (next toward b, edge key, distance to b)
    front_a, front_b = [a], [b]
    dist_a = dist_b = 0
    while front_a and front_b and dist_a + dist_b < max_depth:
        grow_a = len(front_a) <= len(front_b)
        if grow_a:
            plan, mine, theirs, front = forward, side_a, side_b, front_a
        else:
            plan, mine, theirs, front = backward, side_b, side_a, front_b
        level = (dist_a if grow_a else dist_b) + 1
        following, meets = [], []
        for node in front:
            for key, other in plan.scan(node):
                if other in mine or other in skip:
                    continue
                mine[other] = (node, key, level)
                following.append(other)
                if other in theirs:
                    meets.append(other)
        if grow_a:
            front_a, dist_a = following, level
        else:
            front_b, dist_b = following, level
        if meets:
            middle = min(meets, key=lambda n: side_a[n][2] + side_b[n][2])
            return _join(side_a, side_b, middle)
    return None


def _join(side_a: dict[bytes, Any], side_b: dict[bytes, Any], middle: bytes) -> list[tuple[bytes, bytes]]:
    hops = []
    node = middle
    while side_a[node][0] is not None:
        previous, key, _ = side_a[node]
        hops.append((node, key))
        node = previous
    hops.reverse()
    node = middle
    while side_b[node][0] is not None:
        following, key, _ = side_b[node]
        hops.append((following, key))
        node = following
    return hops
