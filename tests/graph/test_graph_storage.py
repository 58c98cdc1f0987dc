"""How edges are stored (docs/graph.md, "Storage"): one WAL record per edge write (the log alone rebuilds the
store), hubs whose entity holds an edge count, the packed adjacency lists
(built for databases that lack them), reopening, the existence checks of edge writes, and kill -9 during edge
writes."""

from __future__ import annotations

import copy
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from graph_helpers import NODE, assert_consistent, key_order, stored_edges
from rocksdict import Options

from core_helpers import kill_after_acks, replayed_state, stored_state
from rem_db import Database, NotFoundError, ValidationError
from rem_db.graph import adjacency


def stored_with_values(db: Database) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    return {(row["id"], e["rel_type"], e["dst"]): (e["properties"], e["created_at"])
            for row in db.rows("node", include_deleted=True) for e in row["edges"]}


def test_each_edge_write_is_one_wal_record_with_its_edge_keys(db: Database, nodes: str) -> None:
    a, b, c = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}, {"name": "c"}]))
    start = db.stats()["wal_seq"]
    db.add_edges([(a, b, "r", {"w": 1}), (a, c, "r"), (b, c, "s")])
    db.add_edge(a, b, "r", {"w": 1})  # unchanged: nothing is written
    db.remove_edge(a, c, "r")
    records = list(db._store.wal_records(start + 1))
    assert [seq for seq, _ in records] == [start + 1, start + 2]  # one record per commit, none for a no-op
    (_, added), (_, removed) = records
    forward = {key for cf, key, value in added if cf == "edges" and value is not None}
    assert len(forward) == 3 and {cf for cf, _, _ in added} >= {"edges", "reverse_edges", "adjacency", "entities"}
    assert [(cf, value) for cf, _, value in removed if cf in ("edges", "reverse_edges")] == \
        [("edges", None), ("reverse_edges", None)]
    assert replayed_state(db) == stored_state(db)


def test_the_wal_alone_rebuilds_the_graph(db: Database, nodes: str) -> None:
    ids = [r["id"] for r in db.insert_batch(nodes, [{"name": f"n{i}"} for i in range(12)])]
    db.add_edges([(ids[i], ids[(i * 5 + k) % 12], f"r{k}") for i in range(12) for k in range(3)])
    db.add_edge(ids[0], ids[1], "r0", {"w": 3})
    db.remove_edge(ids[2], ids[(2 * 5) % 12], "r0")
    db.upsert(nodes, {"name": "n3", "edges": [{"dst": ids[4], "rel_type": "up", "properties": {"x": 1}}]})
    db.update(ids[5], {"label": "five", "edges": [{"dst": ids[5], "rel_type": "self"}]})
    db.delete(ids[6])  # soft: the edges stay
    db.delete(ids[7], hard=True)  # its edges both ways go
    assert replayed_state(db) == stored_state(db)
    assert_consistent(db)


def test_a_hub_stores_its_edge_count_and_lists_again_when_small(db: Database, nodes: str) -> None:
    big = adjacency.MAX_INLINE + 44
    targets = [r["id"] for r in db.insert_batch(nodes, [{"name": f"t{i}"} for i in range(big)])]
    hub = db.insert(nodes, {"name": "hub"})["id"]
    db.add_edges([(hub, t, "has") for t in targets[:100]])
    assert isinstance(db._engine.get_stored(uuid.UUID(hub).bytes)["edges"], list)
    db.add_edges([(hub, t, "has") for t in targets[100:]] + [(hub, targets[0], "has", {"first": True})])
    assert db._engine.get_stored(uuid.UUID(hub).bytes)["edges"] == big  # the count, not the list
    got = db.get(hub)["edges"]
    assert len(got) == big and got == sorted(got, key=key_order) and got[0]["dst"] in targets
    assert {e["dst"]: e["properties"] for e in got}[targets[0]] == {"first": True}
    assert {r["entity"]["id"] for r in db.traverse(hub)} == set(targets)
    db.upsert(nodes, {"name": "hub", "label": "still a hub"})  # an upsert without edges keeps them
    assert len(db.get(hub)["edges"]) == big
    assert_consistent(db)
    for t in targets[: big - adjacency.REPACK_AT - 1]:
        db.remove_edge(hub, t, "has")
    assert db._engine.get_stored(uuid.UUID(hub).bytes)["edges"] == adjacency.REPACK_AT + 1  # still a hub
    db.remove_edge(hub, targets[big - adjacency.REPACK_AT - 1], "has")
    assert len(db._engine.get_stored(uuid.UUID(hub).bytes)["edges"]) == adjacency.REPACK_AT  # a list again
    assert [r["entity"]["id"] for r in db.traverse(hub)] == [e["dst"] for e in db.get(hub)["edges"]]
    db.delete(targets[-1], hard=True)
    assert_consistent(db)
    assert replayed_state(db) == stored_state(db)


def test_edges_survive_reopen(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(NODE))
        a, b, c = (r["id"] for r in db.insert_batch("node", [{"name": "a"}, {"name": "b"}, {"name": "c"}]))
        db.add_edges([(a, b, "r"), (a, c, "r"), (c, a, "back", {"w": 2})])
        db.remove_edge(a, b, "r")
        before = {x: db.get(x)["edges"] for x in (a, b, c)}
    with Database(db_path) as db:
        assert {x: db.get(x)["edges"] for x in (a, b, c)} == before
        assert [r["entity"]["id"] for r in db.traverse(c, depth=2)] == [a]
        assert db.edges(a, "in")[0]["properties"] == {"w": 2}
        assert_consistent(db)


def drop_lists(db_path: Path) -> None:
    """Make a database look as if written before the packed lists existed."""
    with Database(db_path) as db:
        ks, store = db._keyspace, db._store
        batch = store.batch()
        for key in list(store.scan_keys(adjacency.CF, ks.prefix, ks.end)):
            batch.delete(adjacency.CF, key)
        batch.delete("meta", adjacency.READY_KEY)
        store.write(batch)


def test_a_database_without_lists_is_walked_by_keys_and_gets_them_on_a_writable_open(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(NODE))
        ids = [r["id"] for r in db.insert_batch("node", [{"name": f"n{i}"} for i in range(30)])]
        db.add_edges([(ids[i], ids[(i * 7 + k) % 30], "r") for i in range(30) for k in (1, 2, 3)])
        expected = db.graph.traverse_ids(ids[0], depth=3)
        path = db.shortest_path(ids[0], ids[29], direction="out")
    drop_lists(db_path)
    with Database(db_path, read_only=True) as ro:
        assert not ro._engine.packed_adjacency
        assert ro.graph.traverse_ids(ids[0], depth=3) == expected
        assert ro.shortest_path(ids[0], ids[29], direction="out") == path
    with Database(db_path) as db:  # read-write: the lists are built from the edge keys
        assert db._engine.packed_adjacency
        assert db.graph.traverse_ids(ids[0], depth=3) == expected
        assert_consistent(db)


def test_a_family_unknown_to_this_version_does_not_stop_the_open(db_path: Path) -> None:
    with Database(db_path) as db:
        db._store._db.create_column_family("from_a_newer_version", Options(raw_mode=True))
    with Database(db_path) as db:
        assert "from_a_newer_version" in db._store.cfs and db.count("resources") == 0
    with Database(db_path, read_only=True) as ro:
        assert "from_a_newer_version" in ro._store.cfs and ro.count("resources") == 0


def test_an_edge_to_an_entity_deleted_after_a_check_is_refused(db: Database, nodes: str) -> None:
    a, b = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}]))
    db.add_edge(a, b, "r")  # b is now known to exist
    db.delete(b, hard=True)
    with pytest.raises(NotFoundError, match=f"edge destination {b} does not exist"):
        db.add_edge(a, b, "r")
    db.insert(nodes, {"name": "c"})
    with pytest.raises(ValidationError, match="does not exist"):
        db.insert(nodes, {"name": "d", "edges": [{"dst": b, "rel_type": "r"}]})
    assert db.get(a)["edges"] == [] and stored_edges(db) == (set(), set())


CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    NODE = {"title": "node", "type": "object", "description": "Crash-test nodes.",
            "properties": {"name": {"type": "string"}}, "required": ["name"], "key_field": "name"}
    db = Database(sys.argv[1])
    db.register_schema(NODE)
    ids = [r["id"] for r in db.insert_batch("node", [{"name": f"n{i}"} for i in range(500)])]
    print("ready", flush=True)
    batch = 0
    while True:  # batch k gives sources 10k .. 10k+9 (mod 500) ten edges each, of relation type "b<k>"
        db.add_edges([(ids[(10 * batch + s) % 500], ids[(7 * s + d + batch) % 500], f"b{batch}")
                      for s in range(10) for d in range(10)])
        print(batch, flush=True)
        batch += 1
""")


def test_acknowledged_edge_batches_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "db"
    acked = kill_after_acks(CHILD, [str(path)], 8, env={"P8_WAL_ENABLED": "true"})
    with Database(path) as db:
        edges = assert_consistent(db)
        per_type: dict[str, int] = {}
        for _, rel, _ in edges:
            per_type[rel] = per_type.get(rel, 0) + 1
        assert all(per_type.get(f"b{k}") == 100 for k in acked)  # every acknowledged batch, whole
        assert set(per_type.values()) == {100}  # the batch cut off by the kill: all or nothing
        assert replayed_state(db) == stored_state(db)
