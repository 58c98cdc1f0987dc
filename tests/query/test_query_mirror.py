"""The columnar mirror (query/mirror.py, columnar.py, mirrored.py) answers exactly as the row executor does:
NULLs and missing fields, nested fields, mixed value types, soft-deleted rows, ORDER BY / LIMIT, aggregates,
writes between queries (patched from the WAL), and an encrypted database."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from rem_db import Database
from rem_db.query import mirrored

SCHEMA: dict[str, Any] = {
    "title": "mir", "type": "object", "description": "Rows for the mirror tests.",
    "properties": {
        "k": {"type": "integer"}, "n": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        "s": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "ts": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "flag": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        "meta": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    },
    "required": ["k"], "key_field": "k", "indexed_fields": ["s"],
}
WORDS = ["apple", "Apple", "a_b", "a%b", "back\\slash", "café", "日本", "", "line\nbreak", "zebra"]


def make(k: int, rng: random.Random) -> dict[str, Any]:
    row: dict[str, Any] = {"k": k}
    for name, value in (("n", rng.choice([rng.randint(-9, 9), round(rng.uniform(-9, 9), 2), None])),
                        ("s", rng.choice([*WORDS, None])),
                        ("ts", rng.choice([f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00+02:00", None])),
                        ("flag", rng.choice([True, False, None])),
                        ("meta", rng.choice([{"a": rng.choice(["x", "y", None]), "b": rng.randint(0, 3)}, None])),
                        ("extra", rng.choice([1, "one", [1, 2], None]))):  # undeclared, mixed types
        if rng.random() < 0.9:
            row[name] = value
    return row


QUERIES = [
    "SELECT k FROM mir WHERE n > 2",
    "SELECT k FROM mir WHERE n = 3 OR s = 'apple'",
    "SELECT k FROM mir WHERE NOT (n <= 1.5) AND flag",
    "SELECT k FROM mir WHERE n BETWEEN -2 AND 2.5",
    "SELECT k FROM mir WHERE n IN (1, 2.0, 7) OR n NOT IN (3, NULL)",
    "SELECT k FROM mir WHERE s LIKE 'a_b' OR s LIKE '%\\%' OR s NOT LIKE '%e%'",
    "SELECT k FROM mir WHERE s ILIKE 'APP%'",
    "SELECT k FROM mir WHERE s LIKE '%eA%' OR s LIKE '%pl%' OR s LIKE '%本%' OR s LIKE '%e\nb%'",
    "SELECT k FROM mir WHERE s LIKE 'a!%b' ESCAPE '!'",
    "SELECT k FROM mir WHERE ts > '2025-05-01' AND ts < '2025-08-15T00:00:00Z'",
    "SELECT k FROM mir WHERE ts >= '2025-03-10' OR s > 'b'",
    "SELECT k FROM mir WHERE meta.a = 'x' AND meta.b >= 2",
    "SELECT k FROM mir WHERE meta IS NULL OR meta.a IS NOT NULL",
    "SELECT k FROM mir WHERE extra = 1",
    "SELECT k FROM mir WHERE flag = FALSE OR extra = 'one'",
    "SELECT * FROM mir WHERE n < 0 ORDER BY n DESC, k LIMIT 7 OFFSET 2",
    "SELECT k, s FROM mir WHERE n > -5 ORDER BY s NULLS FIRST, k LIMIT 20",
    "SELECT k FROM mir WHERE n > 0 LIMIT 5",
    "SELECT COUNT(*), COUNT(n), SUM(n), AVG(n), MIN(n), MAX(n), MIN(s), MAX(s) FROM mir WHERE k > 10",
    "SELECT COUNT(*), SUM(n) FROM mir WHERE k < 0",
    "SELECT s, COUNT(*) AS c, SUM(meta.b), MAX(k) FROM mir GROUP BY s ORDER BY c DESC, s LIMIT 4",
    "SELECT flag, meta.a, COUNT(*) FROM mir WHERE n IS NOT NULL GROUP BY flag, meta.a",
    "SELECT s, COUNT(*) FROM mir GROUP BY s",
    "SELECT s, COUNT(*) AS c FROM mir WHERE n > 0 GROUP BY s ORDER BY c DESC, s",
    "SELECT flag, COUNT(*) FROM mir GROUP BY flag",
    "SELECT meta.b, COUNT(*) FROM mir WHERE s IS NOT NULL GROUP BY meta.b",
    "SELECT MIN(ts), MAX(ts) FROM mir",
]


def _canon(rows: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows]


def check_same(db: Database, monkeypatch: pytest.MonkeyPatch, include_deleted: bool = False) -> set[str]:
    """Every query answers the same through the mirror and row by row; returns the access paths used."""
    used = set()
    for sql in QUERIES:
        monkeypatch.setattr(mirrored, "MIN_ROWS", 0)
        fast = db.query(sql, include_deleted=include_deleted)
        used.add(db.explain(sql, include_deleted=include_deleted)["access"])
        monkeypatch.setattr(mirrored, "MIN_ROWS", 10**9)
        slow = db.query(sql, include_deleted=include_deleted)
        ordered = "ORDER BY" in sql
        a, b = _canon(fast), _canon(slow)
        assert (a if ordered else sorted(a)) == (b if ordered else sorted(b)), sql
    return used


@pytest.fixture
def mir(db: Database) -> Database:
    db.register_schema(SCHEMA)
    rng = random.Random(5)
    db.insert_batch("mir", [make(k, rng) for k in range(400)])
    return db


def test_mirror_answers_like_the_row_path(mir: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    used = check_same(mir, monkeypatch)
    assert "mirror" in used and "scan" in used  # mixed-type fields are left to the row path


def test_writes_between_queries_are_seen(mir: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    check_same(mir, monkeypatch)
    rng = random.Random(9)
    rows = mir.query("SELECT id, k FROM mir WHERE k < 30")
    mir.insert_batch("mir", [make(k, rng) for k in range(400, 450)])  # new rows
    mir.update(rows[0]["id"], {"n": 1234, "s": "updated"})
    mir.delete(rows[1]["id"])  # soft
    mir.delete(rows[2]["id"], hard=True)
    check_same(mir, monkeypatch)
    check_same(mir, monkeypatch, include_deleted=True)
    monkeypatch.setattr(mirrored, "MIN_ROWS", 0)
    assert mir.query("SELECT k FROM mir WHERE n = 1234") == [{"k": rows[0]["k"]}]
    assert mir.query("SELECT k FROM mir WHERE k = ? AND n > -100", [rows[2]["k"]]) == []
    assert mir.query("SELECT COUNT(*) AS c FROM mir WHERE k >= 400 AND n > -100")[0]["c"] == \
        len([r for r in mir.rows("mir") if r["k"] >= 400 and r.get("n") is not None])
    steps = str(mir.explain("SELECT k FROM mir WHERE n > 5")["steps"])
    assert "columnar mirror" in steps and "(current)" in steps


def test_encrypted_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Database(tmp_path / "enc", password="correct horse") as db:
        db.register_schema(SCHEMA)
        rng = random.Random(3)
        db.insert_batch("mir", [make(k, rng) for k in range(300)])
        assert "mirror" in check_same(db, monkeypatch)
        db.insert_batch("mir", [make(k, rng) for k in range(300, 320)])
        check_same(db, monkeypatch)


def test_another_handle_sees_new_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second handle keeps its own mirror: after reopening it sees what the writer committed since."""
    monkeypatch.setattr(mirrored, "MIN_ROWS", 0)
    path = tmp_path / "two"
    rng = random.Random(4)
    with Database(path) as db:
        db.register_schema(SCHEMA)
        db.insert_batch("mir", [make(k, rng) for k in range(200)])
        before = db.query("SELECT COUNT(*) AS c FROM mir WHERE n > 0")[0]["c"]
    with Database(path, read_only=True) as reader:
        assert reader.query("SELECT COUNT(*) AS c FROM mir WHERE n > 0")[0]["c"] == before
    with Database(path) as db:
        db.insert_batch("mir", [{"k": 1000 + k, "n": 5} for k in range(10)])
    with Database(path, read_only=True) as reader:
        assert reader.query("SELECT COUNT(*) AS c FROM mir WHERE n > 0")[0]["c"] == before + 10
