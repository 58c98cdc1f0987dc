"""Deletes and the graph: hard delete removes edges in both directions; soft-deleted nodes are skipped by
traversal unless asked for."""

from __future__ import annotations

import pytest
from graph_helpers import assert_consistent, stored_edges

from rem_db import Database, NotFoundError


def chain(db: Database, table: str, n: int) -> list[str]:
    ids = [r["id"] for r in db.insert_batch(table, [{"name": f"c{i}"} for i in range(n)])]
    db.add_edges([(ids[i], ids[i + 1], "next") for i in range(n - 1)])
    return ids


def test_hard_delete_of_a_middle_node_cuts_both_directions(db: Database, nodes: str) -> None:
    a, b, c = chain(db, nodes, 3)
    db.add_edge(c, b, "back")
    db.delete(b, hard=True)
    forward, reverse = stored_edges(db)
    assert forward == reverse == set()
    assert db.get(a)["edges"] == [] and db.get(c)["edges"] == []
    assert db.edges(a, "both") == [] and db.edges(c, "both") == []
    assert db.traverse(a, depth=5, direction="both") == []
    assert_consistent(db)


def test_hard_delete_of_a_source_and_of_a_target(db: Database, nodes: str) -> None:
    a, b, c, d = chain(db, nodes, 4)
    db.add_edge(a, c, "skip")
    db.delete(a, hard=True)  # its outgoing edges leave the reverse family too
    assert db.edges(b, "in") == [] and db.edges(c, "in")[0]["src"] == b
    db.delete(d, hard=True)  # c's edge to it goes from c's edges field
    assert db.get(c)["edges"] == []
    assert {(s, r, t) for s, r, t in assert_consistent(db)} == {(b, "next", c)}


def test_soft_deleted_nodes_are_skipped_unless_asked(db: Database, nodes: str) -> None:
    a, b, c, d = chain(db, nodes, 4)
    db.add_edge(a, d, "jump")
    db.delete(b)
    assert [r["entity"]["id"] for r in db.traverse(a, depth=3)] == [d]  # not returned, not walked through
    found = db.traverse(a, depth=3, include_deleted=True)
    assert [(r["entity"]["id"], r["depth"]) for r in found] == [(d, 1), (b, 1), (c, 2)]  # key order: jump < next
    assert found[1]["entity"]["deleted_at"] is not None
    assert db.shortest_path(a, c, direction="out") is None
    assert db.shortest_path(a, c, direction="out", include_deleted=True)["length"] == 2
    assert db.shortest_path(a, c)["length"] == 2  # a -jump-> d <-next- c
    assert db.neighbors_batch([a])[a] == [{"id": d, "rel_type": "jump", "direction": "out"}]
    assert len(db.neighbors_batch([a], include_deleted=True)[a]) == 2
    assert len(db.edges(a)) == 2  # the edges themselves stay: a soft delete is reversible
    db.upsert(nodes, {"name": "c1"})  # brings b back
    assert [r["entity"]["id"] for r in db.traverse(a, depth=3)] == [d, b, c]


def test_many_soft_deleted_rows_switch_the_walk_to_per_node_checks(db: Database, nodes: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from rem_db.graph import walk

    ids = chain(db, nodes, 6)
    db.delete(ids[2])
    monkeypatch.setattr(walk, "MAX_DELETED_SET", 0)  # any deleted row makes the walk probe each node
    assert [r["entity"]["id"] for r in db.traverse(ids[0], depth=5)] == [ids[1]]
    assert [r["entity"]["id"] for r in db.traverse(ids[3], depth=5, direction="in")] == []
    assert len(db.traverse(ids[0], depth=5, include_deleted=True)) == 5
    assert db.graph.traverse_ids(ids[0], depth=5) == [{"id": ids[1], "depth": 1, "path": [{"id": ids[1],
                                                                                            "rel_type": "next"}]}]


def test_traverse_from_a_soft_deleted_start(db: Database, nodes: str) -> None:
    a, b = chain(db, nodes, 2)
    db.delete(a)
    with pytest.raises(NotFoundError, match="soft-deleted"):
        db.traverse(a)
    assert [r["entity"]["id"] for r in db.traverse(a, include_deleted=True)] == [b]
