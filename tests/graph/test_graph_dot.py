"""``Database.traverse_dot`` (Graphviz text of a walk) and ``Database.entity_labels`` through the library."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from rem_db import Database, NotFoundError
from rem_db.graph.dot import dot_quote


@pytest.fixture
def walk(db: Database, nodes: str) -> dict[str, str]:
    rows = db.insert_batch(nodes, [{"name": n} for n in ("a", 'b "q"\\', "c", "d")])
    db.add_edges([("a", 'b "q"\\', "knows"), ('b "q"\\', "c", "part:of"), ("c", "a", "loops"), ("d", "a", "x")])
    return {r["name"]: r["id"] for r in rows}


def test_dot_of_a_walk_has_the_start_the_reached_and_the_edges_between(db: Database, walk: dict[str, str]) -> None:
    text = db.traverse_dot("a", depth=3)
    lines = text.splitlines()
    assert lines[:4] == ["digraph traverse {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
                         '  edge [fontname="Helvetica", fontsize=10];']
    assert text.endswith("}\n")
    a, b, c = walk["a"], walk['b "q"\\'], walk["c"]
    assert f'  "{a}" [label="a\\nnode · depth 0", style=bold];' in lines
    assert f'  "{b}" [label="b \\"q\\"\\\\\\nnode · depth 1"];' in lines  # quotes and backslashes escaped
    assert f'  "{c}" [label="c\\nnode · depth 2"];' in lines
    assert walk["d"] not in text  # not reached: d -> a points into the walk, not out of it
    edges = [line for line in lines if "->" in line]
    assert edges == [f'  "{a}" -> "{b}" [label="knows"];', f'  "{b}" -> "{c}" [label="part:of"];',
                     f'  "{c}" -> "{a}" [label="loops"];']
    dot = shutil.which("dot")
    if dot:  # Graphviz itself, where installed: it must render the text
        svg = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
        assert svg.returncode == 0 and b"<svg" in svg.stdout


def test_dot_follows_only_the_chosen_relation_types(db: Database, walk: dict[str, str]) -> None:
    text = db.traverse_dot("a", depth=3, rel_type="knows")
    assert walk['b "q"\\'] in text and walk["c"] not in text
    assert [line.split("[label=")[1] for line in text.splitlines() if "->" in line] == ['"knows"];']
    both = db.traverse_dot("a", depth=1, direction="in")
    assert walk["c"] in both and walk["d"] in both
    assert f'"{walk["d"]}" -> "{walk["a"]}" [label="x"];' in both  # drawn source to destination


def test_dot_of_an_unknown_start_is_not_found(db: Database, nodes: str) -> None:
    with pytest.raises(NotFoundError):
        db.traverse_dot("nobody")


def test_entity_labels_prefer_the_key_field_then_common_names(db: Database, nodes: str, notes: str,
                                                              products: str) -> None:
    node = db.insert(nodes, {"name": "hub", "label": "ignored"})
    titled = db.insert(notes, {"key": "", "uri": "notes://1", "text": "x"})
    bare = db.insert(notes, {"text": "no name at all"})
    product = db.insert(products, {"product_code": "PP-1", "name": "Pot", "price": 2})
    labels = db.entity_labels([node, titled, bare, product])
    assert labels == {node["id"]: "hub", titled["id"]: "notes://1", bare["id"]: bare["id"],
                      product["id"]: "PP-1"}  # products: its key field, not its name


def test_dot_quote_escapes_what_dot_needs() -> None:
    assert dot_quote('a "b" \\ c\r\nd') == '"a \\"b\\" \\\\ c\\nd"'
