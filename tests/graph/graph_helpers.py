"""Helpers of the graph tests (imported as ``graph_helpers``): loading a networkx graph into a database and
checking the stored edges against the entities' ``edges`` fields."""

from __future__ import annotations

import uuid
from typing import Any

import networkx as nx

from rem_db import Database
from rem_db.storage.codec import decode_str

NODE: dict[str, Any] = {
    "title": "node",
    "type": "object",
    "description": "Graph test nodes, keyed by name.",
    "properties": {"name": {"type": "string"}, "label": {"type": "string"}},
    "required": ["name"],
    "key_field": "name",
}


def load(db: Database, g: nx.DiGraph, rel: str = "rel", table: str = "node") -> dict[Any, str]:
    """Insert one entity per node (named ``n<node>``) and one edge per graph edge (``rel``, or the edge's
    ``rel`` attribute); returns node -> entity id."""
    rows = db.insert_batch(table, [{"name": f"n{n}"} for n in g.nodes])
    ids = {n: r["id"] for n, r in zip(g.nodes, rows, strict=True)}
    edges = [(ids[a], ids[b], data.get("rel", rel)) for a, b, data in g.edges(data=True)]
    for start in range(0, len(edges), 500):
        db.add_edges(edges[start:start + 500])
    return ids


def simple(g: nx.MultiDiGraph) -> nx.DiGraph:
    """A DiGraph with the edges of a multigraph (self-loops kept, parallel edges merged)."""
    out = nx.DiGraph()
    out.add_nodes_from(g.nodes)
    out.add_edges_from(g.edges())
    return out


def view(g: nx.DiGraph, direction: str) -> nx.Graph:
    """The graph a walk in ``direction`` explores."""
    return {"out": g, "in": g.reverse(copy=False), "both": g.to_undirected(as_view=True)}[direction]


def stored_edges(db: Database) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(forward, reverse) edges of the tenant as (src, rel_type, dst), read raw from the column families."""
    ks = db._keyspace
    start = len(ks.prefix) + 16
    out = []
    for cf in ("edges", "reverse_edges"):
        found = set()
        for key in db._store.scan_keys(cf, ks.prefix, ks.end):
            a, b = str(uuid.UUID(bytes=key[len(ks.prefix):start])), str(uuid.UUID(bytes=key[-16:]))
            rel = decode_str(key[start:-16])[0]
            found.add((a, rel, b) if cf == "edges" else (b, rel, a))
        out.append(found)
    return out[0], out[1]


def assert_consistent(db: Database, tables: tuple[str, ...] = ("node",)) -> set[tuple[str, str, str]]:
    """Every entity's ``edges`` field equals its forward edges, and the reverse family mirrors the forward
    one. Returns the edges."""
    forward, reverse = stored_edges(db)
    assert forward == reverse
    fields = {(row["id"], e["rel_type"], e["dst"]) for table in tables
              for row in db.rows(table, include_deleted=True) for e in row["edges"]}
    assert fields == forward
    return forward
