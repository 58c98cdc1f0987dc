"""Repeated walks reuse decoded adjacency (graph/cache.py) and ``traverse(fields=...)`` decodes only what is
asked for (graph/project.py): a walk after any write sees it, and projected entities equal the full ones."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from cli_helpers import Rem
from graph_helpers import load

from rem_db import Database, ValidationError
from rem_db.graph.adjacency import MAX_INLINE


def reached(db: Database, start: str, **kw: object) -> dict[str, int]:
    return {r["id"]: r["depth"] for r in db.graph.traverse_ids(start, **kw)}


def chain_graph(db: Database) -> dict[int, str]:
    return load(db, nx.DiGraph([(0, 1), (1, 2), (2, 3)]))


def test_walk_after_edge_added_removed_and_node_soft_deleted(db: Database, nodes: str) -> None:
    ids = chain_graph(db)
    assert reached(db, ids[0], depth=3) == {ids[1]: 1, ids[2]: 2, ids[3]: 3}
    assert reached(db, ids[0], depth=3) == {ids[1]: 1, ids[2]: 2, ids[3]: 3}  # a repeat, from the cache
    extra = db.insert(nodes, {"name": "extra"})["id"]
    db.add_edge(ids[1], extra, "rel")
    assert reached(db, ids[0], depth=3) == {ids[1]: 1, ids[2]: 2, ids[3]: 3, extra: 2}
    db.remove_edge(ids[1], ids[2], "rel")
    assert reached(db, ids[0], depth=3) == {ids[1]: 1, extra: 2}
    db.delete(extra)
    assert reached(db, ids[0], depth=3) == {ids[1]: 1}
    assert reached(db, ids[0], depth=3, include_deleted=True) == {ids[1]: 1, extra: 2}
    assert [r["path"] for r in db.graph.traverse_ids(ids[0], depth=2, include_deleted=True)][1] == [
        {"id": ids[1], "rel_type": "rel"}, {"id": extra, "rel_type": "rel"}]


def test_relation_filter_on_cached_lists(db: Database, nodes: str) -> None:
    ids = load(db, nx.DiGraph([(0, 1, {"rel": "a"}), (0, 2, {"rel": "b"}), (1, 3, {"rel": "b"})]))
    assert reached(db, ids[0], depth=2) == {ids[1]: 1, ids[2]: 1, ids[3]: 2}  # fills the cache, every type
    assert reached(db, ids[0], depth=2, rel_type="b") == {ids[2]: 1}
    assert reached(db, ids[0], depth=2, rel_type=["b", "a"]) == {ids[2]: 1, ids[1]: 1, ids[3]: 2}
    assert [r["id"] for r in db.graph.traverse_ids(ids[0], rel_type=["b", "a"])] == [ids[2], ids[1]]


def test_another_process_writes_seen_after_reopen(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema({"title": "node", "type": "object", "description": "nodes",
                            "properties": {"name": {"type": "string"}}, "required": ["name"], "key_field": "name"})
        ids = load(db, nx.DiGraph([(0, 1)]))
        assert reached(db, ids[0], depth=2) == {ids[1]: 1}
    script = textwrap.dedent(f"""
        from rem_db import Database
        with Database({str(db_path)!r}) as db:
            new = db.insert("node", {{"name": "far"}})["id"]
            db.add_edge({ids[1]!r}, new, "rel")
            print(new)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    far = done.stdout.strip()
    with Database(db_path) as db:
        assert reached(db, ids[0], depth=2) == {ids[1]: 1, far: 2}


def test_fields_project_entities(db: Database, nodes: str) -> None:
    ids = chain_graph(db)
    db.update(ids[2], {"label": 'has ,"edges":[ inside'})
    db.add_edge(ids[1], ids[3], "rel", {"edges": [1, 2], "note": ',"edges":['})  # the marker inside properties
    full = db.traverse(ids[0], depth=3)
    named = db.traverse(ids[0], depth=3, fields=["name", "label"])
    assert [(r["depth"], r["path"]) for r in named] == [(r["depth"], r["path"]) for r in full]
    assert [r["entity"] for r in named] == [
        {"id": r["entity"]["id"], "entity_type": "node", "name": r["entity"]["name"],
         **({"label": r["entity"]["label"]} if "label" in r["entity"] else {})} for r in full]
    assert {r["entity"]["id"]: r["entity"].get("label") for r in named}[ids[2]] == 'has ,"edges":[ inside'
    with_edges = db.traverse(ids[0], depth=3, fields=["edges"])
    assert [r["entity"]["edges"] for r in with_edges] == [r["entity"]["edges"] for r in full]
    db.delete(ids[3])
    assert sorted(r["entity"]["name"] for r in db.traverse(ids[0], depth=3, fields="name")) == ["n1", "n2"]


def test_fields_of_a_hub(db: Database, nodes: str) -> None:
    ids = load(db, nx.DiGraph([(0, n) for n in range(1, MAX_INLINE + 3)] + [(1, 0)]))
    full = {r["entity"]["id"]: r["entity"] for r in db.traverse(ids[1], depth=1)}
    hub = db.traverse(ids[1], depth=1, fields=["name", "edges"])[0]["entity"]
    assert hub["name"] == "n0" and len(hub["edges"]) == MAX_INLINE + 2 and hub["edges"] == full[ids[0]]["edges"]
    assert db.traverse(ids[1], depth=1, fields=["name"])[0]["entity"] == {"id": ids[0], "entity_type": "node",
                                                                           "name": "n0"}


@pytest.mark.parametrize("bad", [[""], [1], "", {"name": 1}])
def test_fields_must_be_names(db: Database, nodes: str, bad: object) -> None:
    ids = chain_graph(db)
    with pytest.raises(ValidationError, match="fields"):
        db.traverse(ids[0], fields=bad)  # type: ignore[arg-type]


def test_cli_traverse_fields(rem: Rem) -> None:
    with Database(rem.db_path) as db:
        rows = db.insert_batch("node", [{"name": "a"}, {"name": "b", "label": "second"}])
        db.add_edge("a", "b", "knows")
    found = rem.ok("traverse", "a", "--fields", "label", "--fields", "name", "-f", "json").json()
    assert [r["entity"] for r in found] == [{"id": rows[1]["id"], "entity_type": "node", "label": "second",
                                             "name": "b"}]
