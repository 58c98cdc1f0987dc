"""Traversal and shortest paths checked against networkx on generated graphs (random, scale-free, cycles,
self-loops): reachable sets per depth, BFS depth labels, paths made of real edges, shortest-path lengths."""

from __future__ import annotations

import itertools
import random
from typing import Any

import networkx as nx
import pytest
from graph_helpers import assert_consistent, load, simple, view

from rem_db import Database, NotFoundError, ValidationError

DIRECTIONS = ("out", "in", "both")


def graphs() -> dict[str, nx.DiGraph]:
    cycles = nx.DiGraph()
    nx.add_cycle(cycles, range(0, 7))
    nx.add_cycle(cycles, range(5, 12))
    cycles.add_edges_from([(3, 3), (11, 11), (12, 13)])  # self-loops and a separate component
    loops = nx.gnp_random_graph(40, 0.06, seed=11, directed=True)
    loops.add_edges_from((n, n) for n in range(0, 40, 3))
    return {
        "random": nx.gnp_random_graph(120, 0.025, seed=3, directed=True),
        "scale_free": simple(nx.scale_free_graph(150, seed=5)),  # hubs, self-loops, parallel edges merged
        "cycles": cycles,
        "random_with_self_loops": loops,
    }


GRAPHS = graphs()


@pytest.fixture(params=sorted(GRAPHS))
def loaded(request: pytest.FixtureRequest, db: Database, nodes: str) -> tuple[nx.DiGraph, dict[Any, str], Database]:
    g = GRAPHS[request.param]
    ids = load(db, g)
    return g, ids, db


def check_paths(db: Database, g: nx.DiGraph, ids: dict[Any, str], start: Any, results: list[dict], direction: str,
                rels: set[str] | None = None) -> None:
    """Each path starts at ``start``, follows existing edges in ``direction``, ends at its entity, and its
    length is the depth."""
    node_of = {v: k for k, v in ids.items()}
    for r in results:
        assert len(r["path"]) == r["depth"] and r["path"][-1]["id"] == r["entity"]["id"]
        here = start
        for hop in r["path"]:
            there = node_of[hop["id"]]
            if rels is not None:
                assert hop["rel_type"] in rels
            forward, backward = g.has_edge(here, there), g.has_edge(there, here)
            assert {"out": forward, "in": backward, "both": forward or backward}[direction], (here, there)
            here = there


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_reachable_sets_and_depth_labels_match_networkx(loaded: Any, strategy: str) -> None:
    g, ids, db = loaded
    node_of = {v: k for k, v in ids.items()}
    rng = random.Random(1)
    starts = [*rng.sample(sorted(g.nodes), 6), max(g.nodes, key=g.degree)]
    for start in starts:
        for direction in DIRECTIONS:
            for depth in (1, 2, 4, 10):
                expected = nx.single_source_shortest_path_length(view(g, direction), start, cutoff=depth)
                expected.pop(start)
                results = db.traverse(ids[start], depth=depth, direction=direction, strategy=strategy)
                got = {node_of[r["entity"]["id"]]: r["depth"] for r in results}
                assert len(got) == len(results), "a node is listed once"
                assert got == expected, (start, direction, depth)
                check_paths(db, g, ids, start, results, direction)
                if strategy == "bfs":
                    assert [r["depth"] for r in results] == sorted(r["depth"] for r in results)


def test_bfs_with_a_limit_is_a_prefix_of_the_full_walk(loaded: Any) -> None:
    g, ids, db = loaded
    start = max(g.nodes, key=g.degree)
    full = db.traverse(ids[start], depth=10, direction="both")
    for limit in (0, 1, 3, len(full) // 2, len(full), len(full) + 5):
        got = db.traverse(ids[start], depth=10, direction="both", limit=limit)
        assert got == full[:limit]
        dfs = db.traverse(ids[start], depth=10, direction="both", strategy="dfs", limit=limit)
        assert len(dfs) == min(limit, len(full))


def test_traverse_ids_matches_traverse(loaded: Any) -> None:
    g, ids, db = loaded
    start = ids[max(g.nodes, key=g.degree)]
    full = db.traverse(start, depth=3, direction="both")
    assert db.graph.traverse_ids(start, depth=3, direction="both") == [
        {"id": r["entity"]["id"], "depth": r["depth"], "path": r["path"]} for r in full]


def test_shortest_path_lengths_match_networkx(loaded: Any) -> None:
    g, ids, db = loaded
    node_of = {v: k for k, v in ids.items()}
    rng = random.Random(2)
    nodes = sorted(g.nodes)
    pairs = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(40)]
    for a, b in pairs:
        for direction in DIRECTIONS:
            try:
                expected = nx.shortest_path_length(view(g, direction), a, b)
            except nx.NetworkXNoPath:
                expected = None
            for max_depth in (3, 10):
                found = db.shortest_path(ids[a], ids[b], max_depth=max_depth, direction=direction)
                want = expected if expected is not None and expected <= max_depth else None
                if want is None:
                    assert found is None, (a, b, direction, max_depth)
                    continue
                assert found is not None and found["length"] == want, (a, b, direction)
                entities = found["entities"]
                assert [e["id"] for e in entities] == [ids[a]] + [h["id"] for h in found["path"]]
                walk = [node_of[e["id"]] for e in entities]
                for x, y in itertools.pairwise(walk):
                    ok = {"out": g.has_edge(x, y), "in": g.has_edge(y, x), "both": g.has_edge(x, y) or g.has_edge(y, x)}
                    assert ok[direction]


def test_relation_filters_match_networkx_subgraphs(db: Database, nodes: str) -> None:
    rng = random.Random(4)
    g = nx.gnp_random_graph(80, 0.05, seed=9, directed=True)
    for a, b in g.edges:
        g.edges[a, b]["rel"] = rng.choice(["cites", "Cites", "part:of"])  # types keep their case
    ids = load(db, g)
    assert_consistent(db)
    for rels in (["cites"], ["Cites", "part:of"], "part:of"):
        wanted = {rels} if isinstance(rels, str) else set(rels)
        sub = nx.DiGraph([(a, b) for a, b, d in g.edges(data=True) if d["rel"] in wanted])
        sub.add_nodes_from(g.nodes)
        for start in rng.sample(sorted(g.nodes), 5):
            for direction in DIRECTIONS:
                expected = nx.single_source_shortest_path_length(view(sub, direction), start, cutoff=3)
                expected.pop(start)
                results = db.traverse(ids[start], depth=3, direction=direction, rel_type=rels)
                assert {r["entity"]["name"]: r["depth"] for r in results} == {f"n{k}": v for k, v in expected.items()}
                check_paths(db, sub, ids, start, results, direction, wanted)
                for other in rng.sample(sorted(g.nodes), 3):
                    try:
                        length = nx.shortest_path_length(view(sub, direction), start, other)
                    except nx.NetworkXNoPath:
                        length = None
                    found = db.shortest_path(ids[start], ids[other], max_depth=10, direction=direction, rel_type=rels)
                    assert (found["length"] if found else None) == length


def test_neighbors_batch_matches_networkx(loaded: Any) -> None:
    g, ids, db = loaded
    node_of = {v: k for k, v in ids.items()}
    batch = sorted(g.nodes)[:25]
    for direction in DIRECTIONS:
        found = db.neighbors_batch([ids[n] for n in batch], direction=direction)
        assert list(found) == [ids[n] for n in batch]
        for n in batch:
            got = sorted((h["direction"], node_of[h["id"]]) for h in found[ids[n]])
            want = ([("out", m) for m in g.successors(n)] if direction != "in" else []) + \
                   ([("in", m) for m in g.predecessors(n)] if direction != "out" else [])
            assert got == sorted(want)


def test_start_and_ends_by_key(db: Database, nodes: str) -> None:
    ids = load(db, nx.path_graph(5, create_using=nx.DiGraph))
    assert [r["entity"]["id"] for r in db.traverse("n0", depth=2)] == [ids[1], ids[2]]
    assert db.shortest_path("n0", "n4", direction="out")["length"] == 4
    assert db.shortest_path("n4", "n0", direction="out") is None
    assert db.shortest_path("n4", "n0", direction="in")["length"] == 4
    assert list(db.neighbors_batch(["n1", ids[2]])) == [ids[1], ids[2]]


@pytest.mark.parametrize("depth", [0, 11, -1, "2", 2.0, True, None])
def test_depth_must_be_1_to_10(db: Database, nodes: str, depth: object) -> None:
    a = db.insert(nodes, {"name": "a"})["id"]
    with pytest.raises(ValidationError, match="depth"):
        db.traverse(a, depth=depth)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_depth"):
        db.shortest_path(a, a, max_depth=depth)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"direction": "up"}, "unknown direction 'up'"), ({"direction": "OUT"}, "unknown direction"),
    ({"strategy": "astar"}, "unknown traversal strategy"), ({"limit": -1}, "limit"), ({"limit": "5"}, "limit"),
    ({"rel_type": ""}, "rel_type"), ({"rel_type": []}, "empty list"), ({"rel_type": ["a", 3]}, "rel_type"),
    ({"rel_type": 7}, "rel_type"),
])
def test_bad_traversal_arguments(db: Database, nodes: str, kwargs: dict, match: str) -> None:
    a = db.insert(nodes, {"name": "a"})["id"]
    with pytest.raises(ValidationError, match=match):
        db.traverse(a, **kwargs)
    if "direction" in kwargs or "rel_type" in kwargs:
        with pytest.raises(ValidationError, match=match):
            db.edges(a, **kwargs)
        with pytest.raises(ValidationError, match=match):
            db.neighbors_batch([a], **kwargs)


def test_unknown_starts(db: Database, nodes: str) -> None:
    db.insert(nodes, {"name": "a"})
    with pytest.raises(NotFoundError, match="does not exist"):
        db.traverse("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError, match="'nowhere' is neither an entity id nor a key"):
        db.traverse("nowhere")
    with pytest.raises(NotFoundError):
        db.shortest_path("a", "nowhere")
    with pytest.raises(ValidationError):
        db.traverse(12)  # type: ignore[arg-type]


def test_a_hub_with_100k_edges_is_walked_within_the_limit(db: Database, nodes: str) -> None:
    targets = [r["id"] for r in db.insert_batch(nodes, [{"name": f"t{i}"} for i in range(1000)])]
    hub = db.insert(nodes, {"name": "hub"})["id"]
    rels = [f"r{j:03d}" for j in range(100)]
    db.add_edges([(hub, t, rel) for rel in rels for t in targets])  # 100,000 edges on one node, one batch
    assert len(db.get(hub)["edges"]) == 100_000
    found = db.traverse(hub, depth=2, limit=25)
    assert len(found) == 25 and all(r["depth"] == 1 for r in found)
    assert len(db.traverse(hub, depth=2, limit=25, strategy="dfs")) == 25
    assert len(db.traverse(targets[0], direction="in", limit=3)) == 1  # 100 edges, one neighbour
    assert len(db.traverse(targets[0], depth=2, direction="both", limit=50)) == 50
    assert len(db.traverse(hub)) == 1000
    assert len(db.edges(hub, rel_type="r042")) == 1000 and len(db.edges(targets[5], "in")) == 100
    assert db.shortest_path(targets[1], targets[2])["length"] == 2
    db.remove_edge(hub, targets[0], "r000")
    assert len(db.get(hub)["edges"]) == 99_999
