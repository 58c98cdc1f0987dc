"""`rem query` and `rem count --where`, run as real subprocesses (few of them: each starts Python)."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess

import pytest
from cli_helpers import Rem

from rem_db.cli.errors import CliError
from rem_db.cli.query_cmd import parse_params


def test_table_output(rem: Rem) -> None:
    records, entities, empty = rem.each(
        ("query", "SELECT sku, price FROM items WHERE category = 'fruit' ORDER BY price DESC LIMIT 2"),
        ("query", "SELECT * FROM items WHERE sku = 'H1'"), ("query", "SELECT * FROM items WHERE sku = 'nope'"),
        code=0)
    lines = records.out.splitlines()
    assert "sku" in lines[1] and "price" in lines[1]
    assert "G1" in records.out and "4.0" in records.out and "A2" in records.out and "B1" not in records.out
    assert "entity_type" in entities.out and "日本茶" in entities.out and "created_at" not in entities.out
    assert empty.out == "" and empty.err == ""  # nothing to draw, and no row-count line in a pipe


def test_json_jsonl_csv(rem: Rem) -> None:
    text = "SELECT sku, metadata.author AS who, tags FROM items WHERE qty = 0 ORDER BY sku"
    as_json, as_jsonl, as_csv = rem.each(("query", text, "--format", "json"), ("query", text, "-f", "jsonl"),
                                         ("--format", "csv", "query", text), code=0)
    assert as_json.json() == [{"sku": "A2", "who": "bob", "tags": ["orange"]},
                              {"sku": "K1", "who": None, "tags": ["green"]}]
    assert [json.loads(line)["sku"] for line in as_jsonl.out.splitlines()] == ["A2", "K1"]
    table = list(csv.reader(io.StringIO(as_csv.out)))
    assert table == [["sku", "who", "tags"], ["A2", "bob", '["orange"]'], ["K1", "", '["green"]']]


def test_parameters(rem: Rem) -> None:
    positional, named = rem.each(
        ("query", "SELECT sku FROM items WHERE price > ? AND category = ? ORDER BY sku", "--param", "2", "-p",
         "fruit", "-f", "json"),
        ("query", "SELECT sku FROM items WHERE sku IN :s AND name = :n", "-p", 's=["K1", "A1"]', "-p", "n=Kale",
         "-f", "json"), code=0)
    assert [r["sku"] for r in positional.json()] == ["A2", "G1"]
    assert named.json() == [{"sku": "K1"}]


def test_param_values_are_json_or_text() -> None:
    assert parse_params(None) is None
    assert parse_params(["2", "fruit", "true", "null", '"7"', "[1, 2]", "a b"]) == [2, "fruit", True, None, "7",
                                                                                 [1, 2], "a b"]
    assert parse_params(["q=0", "n=Kale", "s=x=y"]) == {"q": 0, "n": "Kale", "s": "x=y"}
    assert parse_params(['"x=1"']) == ["x=1"]  # a positional text that looks like NAME=VALUE: quote it
    with pytest.raises(CliError, match="either all as NAME=VALUE"):
        parse_params(["a=1", "2"])


def test_query_from_stdin(rem: Rem) -> None:
    rows = rem.ok("query", "-", "-f", "json", input="EXPLAIN SELECT sku\nFROM items\nWHERE qty = 40").json()
    assert rows[0]["operation"] == "index read" and rows[-1]["actual_rows"] == 1


def test_errors_exit_1_with_the_position(rem: Rem) -> None:
    unknown, empty = rem.each(("query", "SELECT *\nFROM items\nWHERE pricee > 2"), ("query", "-"))
    assert unknown.err.startswith("error: unknown column 'pricee'") and "line 3, column 7" in unknown.err
    assert "stdin is empty" in empty.err


def test_count_with_where(rem: Rem) -> None:
    plain, as_json = rem.each(("count", "items"), ("count", "items", "--where", "tags = 'sweet'", "-f", "json"),
                              code=0)
    assert plain.out.strip() == "12"
    assert as_json.json() == {"table": "items", "count": 4}


def test_row_count_line_on_a_terminal(rem: Rem) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([rem.exe, "--db-path", str(rem.db_path), "query",
                               "SELECT sku FROM items WHERE qty = 0"], stdout=slave, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env={**rem.env, "COLUMNS": "100"}, timeout=60)
        os.close(slave)
        slave = -1
        shown = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert proc.returncode == 0
    assert b"A2" in shown and b"K1" in shown
    err = proc.stderr.decode()
    assert err.startswith("2 rows (") and err.rstrip().endswith("ms)")
