"""`rem lookup KEY… --fuzzy [--limit N]` through the real executable: the score column in tables, `_score` in
JSON, JSON Lines and CSV, clean errors for bad input."""

from __future__ import annotations

import csv
import io
import json

from cli_helpers import Rem


def _load(rem: Rem, products_table: str) -> dict[str, str]:
    from rem_db import Database

    with Database(rem.db_path) as db:
        rows = db.insert_batch(products_table, [
            {"product_code": "PL-1", "name": "Monstera Deliciosa", "price": 25.0},
            {"product_code": "PL-2", "name": "Monstera Deliciosa Albo", "price": 90.0},
            {"product_code": "PL-3", "name": "Ficus Lyrata", "price": 30.0}])
        moment = db.insert("moments", {"name": "Monstera Deliciosa", "summary": "repotted"})
    return {**{r["product_code"]: r["id"] for r in rows}, "moment": moment["id"]}


def test_fuzzy_lookup_prints_scores_in_every_format(rem: Rem, products_table: str) -> None:
    ids = _load(rem, products_table)
    table, as_json, as_jsonl, as_csv, limited = rem.each(
        ("lookup", "Monstra Delicosa", "--fuzzy"),
        ("-f", "json", "lookup", "deliciosa monstera", "--fuzzy"),
        ("lookup", "Monstera Deliciosa", "ficus lirata", "--fuzzy", "--format", "jsonl"),
        ("lookup", "ficus lirata", "--fuzzy", "--format", "csv"),
        ("-f", "json", "lookup", "Monstera Deliciosa", "--fuzzy", "--limit", "2"), code=0)

    cells = [[c.strip() for c in line.replace("┃", "│").split("│")[1:-1]] for line in table.out.splitlines()]
    assert cells[1] == ["score", "table", "id", "product_code", "name"]
    first_two = {tuple(row[1:]) for row in cells[3:5]}  # equal scores: the product and the moment
    assert first_two == {("products", ids["PL-1"], "PL-1", "Monstera Deliciosa"),
                         ("moments", ids["moment"], "", "Monstera Deliciosa")}
    assert 0.75 <= float(cells[3][0]) == float(cells[4][0]) < 1.0

    hits = as_json.json()
    assert {h["id"] for h in hits[:2]} == {ids["PL-1"], ids["moment"]}
    assert [h["_score"] for h in hits[:2]] == [0.99, 0.99]  # word order only: not exact, so below 1.0
    assert hits[2]["id"] == ids["PL-2"] and hits[2]["_score"] < 0.99

    rows = [json.loads(line) for line in as_jsonl.out.splitlines()]
    assert [r["_lookup"] for r in rows] == ["Monstera Deliciosa"] * 3 + ["ficus lirata"]
    assert [r["_score"] for r in rows[:2]] == [1.0, 1.0] and rows[2]["_score"] < 1.0
    assert rows[3]["id"] == ids["PL-3"] and 0.75 <= rows[3]["_score"] < 1.0

    parsed = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [(r["_score"], r["product_code"]) for r in parsed] == [(str(rows[3]["_score"]), "PL-3")]

    assert [(h["_score"]) for h in limited.json()] == [1.0, 1.0]


def test_fuzzy_lookup_without_a_match_and_bad_input(rem: Rem, products_table: str) -> None:
    _load(rem, products_table)
    nothing, = rem.each(("lookup", "qwxzjv", "--fuzzy"), code=0)
    assert nothing.out == "" and "no entity matches 'qwxzjv', even fuzzily" in nothing.err
    empty, zero = rem.each(("lookup", " ", "--fuzzy"), ("lookup", "ficus", "--fuzzy", "-n", "0"))
    assert "needs a key with at least one character that is not a space" in empty.err
    assert "limit must be a whole number from 1 to 10,000, got 0" in zero.err
    usage, = rem.each(("lookup", "ficus", "--limit", "3"), code=2)
    assert "--limit applies to --fuzzy lookups only" in usage.err


def test_fuzzy_lookup_reads_a_database_another_process_holds(rem: Rem, products_table: str) -> None:
    from rem_db import Database

    ids = _load(rem, products_table)
    with Database(rem.db_path) as db:  # the writer stays open: the CLI opens read-only beside it
        db.update(ids["PL-3"], {"name": "Fiddle Leaf Fig"})
        db.wait_idle()
        result = rem.ok("-f", "json", "lookup", "fidle leaf fig", "--fuzzy")
    assert [h["id"] for h in result.json()] == [ids["PL-3"]]
