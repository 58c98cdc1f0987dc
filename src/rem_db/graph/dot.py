"""Graphviz DOT text of a traversal (``Database.traverse_dot``, ``rem traverse --format dot``).

The drawing holds the start (bold), every entity the walk reached and every edge between them of the
relation types the walk may follow, drawn from source to destination whatever the walk's direction. Node
labels are the entity's label (see :mod:`.labels`), its table and its depth. Render it with
``dot -Tsvg > graph.svg``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

Entity = dict[str, Any]


class TraversalReads(Protocol):
    """The graph reads a drawing needs (:class:`~rem_db.graph.service.Graph` has them)."""

    def entity(self, ref: Any, include_deleted: bool = True) -> Entity:
        """The entity named by an id or a key."""
        ...

    def traverse(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                 strategy: str = "bfs", limit: int | None = None, include_deleted: bool = False) -> list[Entity]:
        """``{"entity", "depth", "path"}`` per entity reached."""
        ...

    def neighbors_batch(self, refs: Iterable[Any], direction: str = "out", rel_type: Any = None,
                        include_deleted: bool = False) -> dict[str, list[dict[str, str]]]:
        """``{id: [{"id", "rel_type", "direction"}, ...]}``."""
        ...


def dot_quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line breaks as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(start: Entity, results: Sequence[Entity], out_edges: Mapping[str, Sequence[Mapping[str, str]]],
           label: Callable[[Entity], str]) -> str:
    """A digraph of ``start`` and the traversal ``results`` (``{"entity", "depth", ...}``); ``out_edges``
    maps an entity id to its outgoing hops ``{"id", "rel_type"}``, of which those between drawn entities
    become edges."""
    entities = [start, *(r["entity"] for r in results)]
    depth = {start["id"]: 0, **{r["entity"]["id"]: r["depth"] for r in results}}
    lines = ["digraph traverse {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for entity in entities:
        text = f"{label(entity)}\n{entity['entity_type']} · depth {depth[entity['id']]}"
        style = ", style=bold" if entity is start else ""
        lines.append(f"  {dot_quote(entity['id'])} [label={dot_quote(text)}{style}];")
    for src, hops in out_edges.items():
        for hop in hops:
            if src in depth and hop["id"] in depth:
                lines.append(f"  {dot_quote(src)} -> {dot_quote(hop['id'])} [label={dot_quote(hop['rel_type'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def traversal_dot(graph: TraversalReads, label: Callable[[Entity], str], start: Any, depth: int = 1,
                  direction: str = "out", rel_type: Any = None, strategy: str = "bfs", limit: int | None = None,
                  include_deleted: bool = False) -> str:
    """Walk from ``start`` (arguments as ``Graph.traverse``) and draw the result with :func:`to_dot`."""
    results = graph.traverse(start, depth, direction, rel_type, strategy, limit, include_deleted)
    origin = graph.entity(start)
    shown = [origin["id"], *(r["entity"]["id"] for r in results)]
    out_edges = graph.neighbors_batch(shown, "out", rel_type, True)  # soft-deleted ends are drawn when walked
    return to_dot(origin, results, out_edges, label)
