"""TRAVERSE in the query language, end to end through ``Database.query`` (the query engine calls
``Database.traverse``): rows are the entities with ``_depth`` and ``_path``."""

from __future__ import annotations

import networkx as nx
import pytest
from graph_helpers import load

from rem_db import Database, DatabaseError


@pytest.fixture
def graph(db: Database, nodes: str) -> dict[int, str]:
    g = nx.DiGraph()
    g.add_edges_from([(0, 1, {"rel": "Part:Of"}), (1, 2, {"rel": "next"}), (2, 3, {"rel": "next"}),
                      (4, 0, {"rel": "next"}), (3, 3, {"rel": "same"})])
    return load(db, g)


def rows(db: Database, text: str) -> list[tuple[str, int, list[str]]]:
    return [(r["name"], r["_depth"], [h["rel_type"] for h in r["_path"]]) for r in db.query(text)]


def test_traverse_rows_match_the_api(db: Database, graph: dict[int, str]) -> None:
    got = db.query("TRAVERSE FROM 'n0' DEPTH 3")
    api = db.traverse("n0", depth=3)
    assert got == [{**r["entity"], "_depth": r["depth"], "_path": r["path"]} for r in api]
    assert rows(db, "TRAVERSE FROM 'n0' DEPTH 3") == [("n1", 1, ["Part:Of"]), ("n2", 2, ["Part:Of", "next"]),
                                                     ("n3", 3, ["Part:Of", "next", "next"])]
    assert rows(db, f"traverse from '{graph[0]}'") == [("n1", 1, ["Part:Of"])]  # default depth 1, by id


def test_direction_and_type(db: Database, graph: dict[int, str]) -> None:
    assert rows(db, "TRAVERSE FROM 'n0' DIRECTION in") == [("n4", 1, ["next"])]
    assert sorted(rows(db, "TRAVERSE FROM 'n0' DEPTH 2 DIRECTION both")) == [
        ("n1", 1, ["Part:Of"]), ("n2", 2, ["Part:Of", "next"]), ("n4", 1, ["next"])]
    assert rows(db, "TRAVERSE FROM 'n1' DEPTH 5 TYPE 'next'") == [("n2", 1, ["next"]), ("n3", 2, ["next", "next"])]
    assert rows(db, "TRAVERSE FROM 'n0' TYPE 'part:of'") == []  # relation types keep their case
    assert rows(db, "TRAVERSE FROM 'n0' TYPE 'Part:Of'") == [("n1", 1, ["Part:Of"])]


def test_soft_deleted_and_bad_input(db: Database, graph: dict[int, str]) -> None:
    db.delete(graph[1])
    assert rows(db, "TRAVERSE FROM 'n0' DEPTH 3") == []
    walked = db.query("TRAVERSE FROM 'n0' DEPTH 3", include_deleted=True)
    assert [(r["name"], r["deleted_at"] is not None) for r in walked] == [("n1", True), ("n2", False), ("n3", False)]
    for text in ("TRAVERSE FROM 'n0' DEPTH 0", "TRAVERSE FROM 'n0' DEPTH 11", "TRAVERSE FROM 'n0' DIRECTION up",
                 "TRAVERSE FROM 'nobody'"):
        with pytest.raises(DatabaseError):
            db.query(text)
