"""The sqlglot-free parse of simple WHERE conditions (query/simple_where.py) against the full parser: for every
text it accepts, the nodes must be exactly the full parser's (classes, values, positions); everything else must
be left to the full parser."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rem_db import Database, QueryError
from rem_db.query.simple_where import simple_condition
from rem_db.query.sql import Counter, parse_where

NAMES = ["category", "year", "key", "name", "status", "_x1", "A", "deleted_at", "id", "date", "time", "timestamp",
         "order", "select", "null", "true", "false", "and", "or", "not", "in", "like", "is", "between", "case",
         "count", "user", "left", "values", "interval", "limit", "exists", "current_date", "rowid", "glob"]
OPS = ["=", "!=", "<>", "<", "<=", ">", ">=", "==", "!<", "<=>"]
LITERALS = ["'news'", "'it''s'", "''", "'é中 x'", "'a\\b'", "'line\nbreak'", "0", "7", "007", "2020", "1.5",
            "10.250", "123456789012345678", "1234567890123456789", "99999999999999999999", "1e3", "-5", ".5",
            "1.", "TRUE", "NULL", "DATE '2024-01-01'", "x", "'unterminated", "?", ":p", "1.5.2", "0x1F"]
JOINERS = [" AND ", " and ", " And ", "\nAND\t", " OR ", " && ", "AND", " AND NOT "]
SPACE = ["", " ", "  ", "\n", "\t "]


def _full(text: str) -> object:
    try:
        return parse_where(text, 0, len(text), Counter(text), "docs")
    except QueryError as exc:
        return exc


def _condition(rng: random.Random) -> str:
    parts = []
    for n in range(rng.choice([1, 1, 2, 3])):
        if n:
            parts.append(rng.choice(JOINERS))
        parts.append(rng.choice(SPACE) + rng.choice(NAMES) + rng.choice(SPACE) + rng.choice(OPS)
                     + rng.choice(SPACE) + rng.choice(LITERALS))
    text = "".join(parts) + rng.choice(SPACE)
    if rng.random() < 0.1:
        text = rng.choice(["(", "NOT ", ""]) + text + rng.choice([")", " x", ""])
    return text


def test_what_it_accepts_is_exactly_what_the_full_parser_builds() -> None:
    rng = random.Random(20)
    accepted = 0
    for _ in range(4000):
        text = _condition(rng)
        fast = simple_condition(text)
        if fast is not None:
            accepted += 1
            assert repr(fast) == repr(_full(text)), text  # repr: 7 and 7.0 differ
    assert accepted > 300  # the shape is common in this mix: the fast path is really taken


@pytest.mark.parametrize("text", [
    "category = 'news'", " year >= 2020 AND lang = 'en' ", "a <> 1.50", "x='it''s'", "k = 007",
    "name = 'é中'", "a=1 and b=2 AND c = 'x'", "status != 'done'"])
def test_common_filters_take_the_fast_path(text: str) -> None:
    fast = simple_condition(text)
    assert fast is not None and repr(fast) == repr(_full(text))


@pytest.mark.parametrize("text", [
    "null = 1", "true = 1", "a = 1 OR b = 2", "a = -5", "a = 1e3", "d = DATE '2024-01-01'", "a = ?",
    "a = 'x\\y'", "(a = 1)", "a = 1 AND", "a = 1 b", "f(a) = 1", "t.a = 1", "a = 99999999999999999999"])
def test_anything_else_goes_to_the_full_parser(text: str) -> None:
    assert simple_condition(text) is None


def test_errors_through_the_fast_path_still_name_the_column(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema({"title": "docs", "description": "Docs.", "type": "object",
                            "properties": {"category": {"type": "string"}, "year": {"type": "integer"}}})
        db.insert_batch("docs", [{"category": c, "year": 2000 + n} for n, c in enumerate("abcab")])
        assert db.count("docs", where="category = 'a' AND year >= 2003") == 1
        with pytest.raises(QueryError, match="nosuch"):
            db.count("docs", where="nosuch = 'x'")
