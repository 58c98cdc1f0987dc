"""Walks over ids: breadth-first and depth-first traversal with depth labels and parent links, and the
bidirectional breadth-first shortest path. Nothing here reads entities; :mod:`.service` turns the ids into
results.

Nodes are canonical id texts, as the packed lists hold them (:mod:`.adjacency`): a walk's results need no
formatting of ids. Costs are kept to what RocksDB must do: one multi-get of packed lists per chunk of a
frontier (a key scan for a hub or against the edge direction), and per edge a string slice and a set lookup
to skip seen and soft-deleted nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..storage.codec import TAG_NULL
from .edges import ID_TEXT, Plan
from .ids import id16_of, id_text

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

#: Soft-deleted rows read into a set before a walk; beyond this many the walk checks each node it reaches.
MAX_DELETED_SET = 4096
_NOT_NULL = bytes((TAG_NULL + 1,))

Parents = dict[str, Any]  # id text -> (parent id text, encoded relation type) | None for the start


class DeletedProbe:
    """``node in probe`` is true for an id (text) that is soft-deleted or missing; reads each entity once and
    keeps it (``records``, by id text), so the results reuse what the walk read."""

    __slots__ = ("engine", "records")

    def __init__(self, engine: EntityEngine) -> None:
        self.engine = engine
        self.records: dict[str, dict[str, Any] | None] = {}

    def __contains__(self, node: str) -> bool:
        records = self.records
        if node in records:
            record = records[node]
        else:
            record = records[node] = self.engine.get_stored(id16_of(node))
        return record is None or record.get("deleted_at") is not None


def skipped_ids(engine: EntityEngine, tables: Iterable[str], include_deleted: bool) -> Any:
    """What a walk must not enter: nothing with ``include_deleted``; else the soft-deleted ids of the
    tenant (read from the ``deleted_at`` index, where they are the non-null entries of each table) when
    there are at most :data:`MAX_DELETED_SET` of them, else a :class:`DeletedProbe`."""
    if include_deleted:
        return frozenset()
    found: set[str] = set()
    for table in tables:
        for id16 in engine.fields.deleted_ids(table):
            found.add(id_text(id16))
            if len(found) > MAX_DELETED_SET:
                return DeletedProbe(engine)
    return found


Hop = dict[str, str]
Walked = tuple[list[str], list[dict[str, Any]]]  # (id texts, [{"id", "depth", "path"}, ...]) in walk order


def bfs(plan: Plan, start: str, depth: int, skip: Any, limit: int | None) -> Walked:
    """Breadth-first from ``start`` up to ``depth`` hops, each node listed once (the start never), at its
    shortest distance, with its path (hops ``{"id", "rel_type"}`` from the start), in discovery order:
    the ids, and the results ``{"id", "depth", "path"}`` built as the nodes are found.

    This is the traversal hot loop: the neighbours come decoded (:meth:`Plan.groups`, from the adjacency
    cache when a walk since the last write expanded the node), and per edge one or two set/dict lookups;
    per new node one hop dict, one path list and its result dict. A node's hop dict is shared by the paths
    of everything reached through it (each path is its own list)."""
    paths: dict[str, list[Hop]] = {start: []}
    order: list[str] = []
    results: list[dict[str, Any]] = []
    if limit == 0:
        return order, results
    room = limit if limit is not None else -1  # counts down to 0; without a limit it never reaches it
    frontier = [start]
    append = results.append
    for level in range(1, depth + 1):
        following: list[str] = []
        add = following.append
        for node, groups in plan.group_stream(frontier):
            before = paths[node]
            for _, rel, others in groups:
                for other in others:
                    if other in paths or (skip and other in skip):
                        continue
                    path = paths[other] = [*before, {"id": other, "rel_type": rel}]
                    add(other)
                    append({"id": other, "depth": level, "path": path})
                    room -= 1
                    if room == 0:
                        order += following
                        return order, results
        if not following:
            break
        order += following
        frontier = following
    return order, results


def dfs(plan: Plan, start: str, depth: int, skip: Any, limit: int | None) -> tuple[list[tuple[str, int]], Parents]:
    """Depth-first (pre-order) from ``start`` up to ``depth`` hops.

    A node is listed once, when first reached. When it is reached again by a shorter path it is explored
    again from there, so the nodes found are exactly those within ``depth`` hops (as with BFS) and, without
    a limit, each ends labelled with its shortest distance and a path of that length.
    """
    best: dict[str, int] = {start: 0}
    parents: Parents = {start: None}
    order: list[str] = []
    if limit == 0:
        return [], parents
    stack = [(start, 0, plan.pairs(start))]
    while stack:
        node, d, edges = stack[-1]
        if best[node] < d:  # reached again by a shorter path since this frame was pushed: it is explored there
            stack.pop()
            continue
        for rel, other in edges:
            if other in skip:
                continue
            step = d + 1
            known = best.get(other)
            if known is None:
                order.append(other)
            elif step >= known:
                continue
            best[other] = step
            parents[other] = (node, rel)
            if len(order) == limit:
                return [(n, best[n]) for n in order], parents
            if step < depth:
                stack.append((other, step, plan.pairs(other)))
                break
        else:
            stack.pop()
    return [(n, best[n]) for n in order], parents


def chain(parents: Parents, node: str) -> list[tuple[str, bytes]]:
    """``[(node, encoded relation type), ...]`` from the start's first hop to ``node``."""
    hops = []
    link = parents[node]
    while link is not None:
        hops.append((node, link[1]))
        node = link[0]
        link = parents[node]
    hops.reverse()
    return hops


def shortest(forward: Plan, backward: Plan, a: str, b: str, max_depth: int,
             skip: Any) -> list[tuple[str, bytes]] | None:
    """Bidirectional BFS: ``[(node, encoded relation type), ...]`` hops of a shortest path from ``a`` to ``b``
    of at most ``max_depth`` edges (``[]`` when a == b), or ``None``.

    ``forward`` reads edges in the walk's direction from ``a``; ``backward`` the opposite direction from
    ``b``. The side with the smaller frontier expands one full level at a time (its lists read with one
    multi-get per chunk); the first level where the two searches touch holds a shortest meeting point.
    """
    if a == b:
        return []
    side_a: dict[str, Any] = {a: (None, None, 0)}  # node -> (previous toward a, relation, distance from a)
    side_b: dict[str, Any] = {b: (None, None, 0)}  # node -> (next toward b, relation, distance to b)
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
        for node, sides in plan.stream(front):
            for pieces in sides:
                for rel, texts in pieces:
                    for j in range(0, len(texts), ID_TEXT):
                        other = texts[j:j + ID_TEXT]
                        if other in mine or other in skip:
                            continue
                        mine[other] = (node, rel, level)
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


def _join(side_a: dict[str, Any], side_b: dict[str, Any], middle: str) -> list[tuple[str, bytes]]:
    hops = []
    node = middle
    while side_a[node][0] is not None:
        previous, rel, _ = side_a[node]
        hops.append((node, rel))
        node = previous
    hops.reverse()
    node = middle
    while side_b[node][0] is not None:
        following, rel, _ = side_b[node]
        hops.append((following, rel))
        node = following
    return hops
