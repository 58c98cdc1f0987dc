"""Helpers of the graph tests (imported as ``graph_helpers``): loading a networkx graph into a database and
checking the stored edges against the entities' ``edges`` fields."""

from __future__ import annotations

import uuid
from typing import Any

import networkx as nx

from rem_db import Database
from rem_db.graph import adjacency
from rem_db.storage.codec import decode_str, encode_str

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


def packed_lists(db: Database) -> dict[str, set[tuple[str, str, str]] | int]:
    """The packed adjacency lists of the tenant: source id -> its (src, rel_type, dst) edges, or the edge count
    of a hub (whose list is the overflow marker)."""
    ks = db._keyspace
    out: dict[str, set[tuple[str, str, str]] | int] = {}
    for key, value in db._store.scan(adjacency.CF, ks.prefix, ks.end):
        assert key.endswith(adjacency.OUT) and len(key) == len(ks.prefix) + 17
        src = str(uuid.UUID(bytes=key[len(ks.prefix):-1]))
        if value[:1] == adjacency.OVERFLOW:
            out[src] = adjacency.overflow_count(value)
        else:
            out[src] = {(src, decode_str(rel)[0], texts[j:j + 36])
                        for rel, texts in adjacency.decode(value) for j in range(0, len(texts), 36)}
    return out


def key_order(edge: dict[str, Any]) -> tuple[bytes, bytes]:
    """The order of an entity's edges: its edge keys' (relation type, then destination id)."""
    return encode_str(edge["rel_type"]), uuid.UUID(edge["dst"]).bytes


def assert_consistent(db: Database, tables: tuple[str, ...] = ("node",)) -> set[tuple[str, str, str]]:
    """Every entity's ``edges`` field equals its forward edges (listed in key order, with their properties),
    the reverse family mirrors the forward one, and the packed lists and the stored form of each entity (its
    edges, or a hub's edge count) agree with them. Returns the edges."""
    forward, reverse = stored_edges(db)
    assert forward == reverse
    rows = [row for table in tables for row in db.rows(table, include_deleted=True)]
    fields = {(row["id"], e["rel_type"], e["dst"]) for row in rows for e in row["edges"]}
    assert fields == forward
    lists = packed_lists(db)
    for row in rows:
        mine = {edge for edge in forward if edge[0] == row["id"]}
        # the field lists the stored edges (properties, created_at) in key order, as edges() does
        assert row["edges"] == [{k: e[k] for k in ("dst", "rel_type", "properties", "created_at")}
                                for e in db.edges(row["id"])]
        assert row["edges"] == sorted(row["edges"], key=key_order)
        stored = db._engine.get_stored(uuid.UUID(row["id"]).bytes)["edges"]
        if not mine:
            assert row["id"] not in lists and stored == []
        elif isinstance(stored, int):  # a hub
            assert stored == len(mine) > adjacency.REPACK_AT and lists[row["id"]] == len(mine)
        else:
            assert len(stored) <= adjacency.MAX_INLINE and lists[row["id"]] == mine
    assert set(lists) <= {row["id"] for row in rows}
    return forward
