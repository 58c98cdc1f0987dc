"""`rem traverse` and `rem edge add|remove|list`, run as real `rem` subprocesses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from cli_helpers import Rem

from rem_db import Database

QUOTED = r'"(?:[^"\\]|\\.)*"'
NODE_LINE = re.compile(rf"^  ({QUOTED}) \[label=({QUOTED})(, style=bold)?\];$")
EDGE_LINE = re.compile(rf"^  ({QUOTED}) -> ({QUOTED}) \[label=({QUOTED})\];$")
SETTING_LINE = re.compile(r"^  (rankdir=LR|node \[[^\]]*\]|edge \[[^\]]*\]);$")


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text[1:-1])


def parse_dot(text: str) -> tuple[dict[str, tuple[str, bool]], list[tuple[str, str, str]]]:
    """Check the DOT that `rem traverse -f dot` writes, line by line (a digraph of quoted node ids, labelled
    nodes and edges, every edge between declared nodes); returns nodes (id -> (label, bold)) and edges."""
    lines = text.splitlines()
    assert lines[0] == "digraph traverse {" and lines[-1] == "}" and text.endswith("}\n")
    nodes: dict[str, tuple[str, bool]] = {}
    edges = []
    for line in lines[1:-1]:
        if node := NODE_LINE.match(line):
            nodes[unquote(node[1])] = (unquote(node[2]), bool(node[3]))
        elif edge := EDGE_LINE.match(line):
            edges.append((unquote(edge[1]), unquote(edge[2]), unquote(edge[3])))
        else:
            assert SETTING_LINE.match(line), line
    assert all(a in nodes and b in nodes for a, b, _ in edges)
    return nodes, edges


def setup_graph(rem: Rem) -> dict[str, str]:
    with Database(rem.db_path) as db:
        rows = db.insert_batch("node", [{"name": n} for n in ("a", 'b "q"\\', "c", "d")])
        ids = {r["name"]: r["id"] for r in rows}
        db.add_edges([("a", 'b "q"\\', "knows"), ('b "q"\\', "c", "part:of"), ("c", "a", "ünï"), ("d", "a", "x")])
    return ids


def test_edge_add_list_remove(rem: Rem) -> None:
    ids = setup_graph(rem)
    added = rem.ok("edge", "add", "a", "c", "likes", "--properties", '{"w": 2}', "--format", "json").json()
    assert (added["src"], added["dst"], added["rel_type"]) == (ids["a"], ids["c"], "likes")
    assert added["properties"] == {"w": 2}
    listed, incoming, typed = rem.each(("edge", "list", "a", "-f", "json"),
                                       ("edge", "list", "a", "-D", "in", "-f", "json"),
                                       ("edge", "list", ids["a"], "-D", "both", "-t", "x", "-t", "likes"), code=0)
    assert [(e["rel_type"], e["dst"]) for e in listed.json()] == [("knows", ids['b "q"\\']), ("likes", ids["c"])]
    assert sorted(e["rel_type"] for e in incoming.json()) == ["x", "ünï"]
    assert "likes" in typed.out and "│ in " in typed.out and "knows" not in typed.out
    removed = rem.ok("edge", "remove", "a", ids["c"], "likes")
    assert removed.out == "" and "removed edge" in removed.err
    assert [e["rel_type"] for e in rem.ok("edge", "list", "a", "-f", "json").json()] == ["knows"]
    empty = rem.ok("edge", "list", "d", "-D", "in")
    assert empty.out == "" and "has no incoming edges" in empty.err


def test_traverse_formats(rem: Rem) -> None:
    ids = setup_graph(rem)
    table, as_json, jsonl, csv, into = rem.each(
        ("traverse", "a", "--depth", "3"), ("traverse", "a", "-d", "2", "-f", "json"),
        ("--format", "jsonl", "traverse", "a", "-d", "2"), ("traverse", "a", "-d", "3", "-f", "csv"),
        ("traverse", ids["a"], "-D", "in", "-t", "x", "-t", "ünï", "-f", "json"), code=0)
    assert 'b "q"\\' in table.out and "-[knows]-> b" in table.out and "-[part:of]-> c" in table.out
    results = as_json.json()
    assert [(r["entity"]["name"], r["depth"]) for r in results] == [('b "q"\\', 1), ("c", 2)]
    assert results[1]["path"] == [{"id": ids['b "q"\\'], "rel_type": "knows"}, {"id": ids["c"], "rel_type": "part:of"}]
    assert [json.loads(line)["depth"] for line in jsonl.out.splitlines()] == [1, 2]
    assert csv.out.splitlines()[0] == "depth,id,table,entity,path" and len(csv.out.splitlines()) == 3
    assert sorted(r["entity"]["name"] for r in into.json()) == ["c", "d"]


def test_traverse_dot_output_is_valid_graphviz(rem: Rem) -> None:
    ids = setup_graph(rem)
    out = rem.ok("traverse", "a", "-d", "3", "-f", "dot").out
    nodes, edges = parse_dot(out)
    assert set(nodes) == {ids["a"], ids['b "q"\\'], ids["c"]}
    assert nodes[ids["a"]] == ("a\nnode · depth 0", True)
    assert nodes[ids['b "q"\\']] == ('b "q"\\\nnode · depth 1', False)
    assert sorted(edges) == sorted([(ids["a"], ids['b "q"\\'], "knows"), (ids['b "q"\\'], ids["c"], "part:of"),
                                    (ids["c"], ids["a"], "ünï")])
    dot = shutil.which("dot")
    if dot:  # Graphviz itself, where installed (`apt-get install graphviz`): it must render the output
        svg = subprocess.run([dot, "-Tsvg"], input=out.encode(), capture_output=True, timeout=60)
        assert svg.returncode == 0 and b"<svg" in svg.stdout, svg.stderr


def test_cli_errors(rem: Rem) -> None:
    setup_graph(rem)
    failures = rem.each(("traverse", "a", "--depth", "0"), ("traverse", "a", "-d", "11"), ("traverse", "a", "-D", "up"),
                        ("traverse", "nobody"), ("edge", "list", "nobody"), ("traverse", "a", "--strategy", "x"),
                        ("edge", "add", "a", "c", "r", "-p", "[1]"), ("edge", "add", "a", "c", "r", "-p", "{"))
    messages = [f.err for f in failures]
    assert "JSON object" in messages[6] and "invalid JSON" in messages[7]
    assert "depth must be from 1 to 10, got 0" in messages[0] and "got 11" in messages[1]
    assert "unknown direction 'up'" in messages[2]
    assert "'nobody' is neither an entity id nor a key" in messages[3] and "nobody" in messages[4]
    assert "unknown traversal strategy" in messages[5]
    assert "no edge a -[knows]-> c" in rem.fails("edge", "remove", "a", "c", "knows").err
    assert "does not exist" in rem.fails("edge", "add", "a", "00000000-0000-4000-8000-000000000000", "r").err
    assert rem.fails("traverse", "a", "-f", "xml", code=2).code == 2
    assert "read-only" in rem.fails("--read-only", "edge", "add", "a", "c", "r").err
