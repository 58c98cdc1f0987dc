"""Differential test: the same generated rows in REM and in DuckDB, the same generated queries, the same
answers (in order where ORDER BY is total, as multisets otherwise).

5,000 rows (ints, floats, unicode strings, NULLs and missing fields, ISO timestamps with offsets, nested
objects) and 500 queries from a fixed seed. ``REM_DIFF_SEED`` / ``REM_DIFF_QUERIES`` explore other seeds.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from query_diff import DUCK_COLUMNS, SCHEMA, Gen, Query, duck_row, make_rows, normalize, rows_equal

from rem_db import Database

ROWS = 5_000
QUERIES = int(os.environ.get("REM_DIFF_QUERIES", "500"))
SEED = int(os.environ.get("REM_DIFF_SEED", "20250101"))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base: Path = tmp_path_factory.mktemp("diff")
    db = Database(base / "db")
    db.register_schema(copy.deepcopy(SCHEMA))
    rows = make_rows(ROWS, SEED)
    for start in range(0, ROWS, 1000):
        db.insert_batch("diff_items", rows[start:start + 1000])
    entities = list(db.rows("diff_items"))
    assert len(entities) == ROWS
    path = base / "rows.jsonl"
    path.write_bytes(b"".join(orjson.dumps(duck_row(e)) + b"\n" for e in entities))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DUCK_COLUMNS.items()) + "}"
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{path}', format = 'newline_delimited', "
                f"columns = {columns})")
    assert con.execute("SELECT COUNT(*) FROM t").fetchone() == (ROWS,)
    yield db, con, entities
    con.close()
    db.close()


def _rem(db: Database, q: Query) -> list[tuple[Any, ...]]:
    return [tuple(normalize(v, i in q.ts_columns) for i, v in enumerate(row.values())) for row in db.query(q.rem)]


def _duck(con: Any, q: Query) -> list[tuple[Any, ...]]:
    return [tuple(normalize(v, False) for v in row) for row in con.execute(q.duck).fetchall()]


def test_generated_queries_match_duckdb(loaded: Any) -> None:
    db, con, entities = loaded
    gen = Gen(entities, SEED)
    failures = []
    shapes: dict[str, int] = {}
    for n in range(QUERIES):
        q = gen.query()
        shapes[q.rem.split(" FROM")[0][:12]] = shapes.get(q.rem.split(" FROM")[0][:12], 0) + 1
        expected = _duck(con, q)
        try:
            got = _rem(db, q)
        except Exception as exc:  # a valid query must run
            failures.append(f"#{n} {q.rem}\n  REM raised {type(exc).__name__}: {exc}")
            continue
        if not rows_equal(got, expected, q.ordered):
            failures.append(f"#{n} {q.rem}\n  duck: {q.duck}\n  REM  ({len(got)}): {got[:6]}\n"
                            f"  DuckDB ({len(expected)}): {expected[:6]}")
    assert not failures, f"{len(failures)} of {QUERIES} queries differ:\n" + "\n".join(failures[:8])


def test_some_queries_use_each_access_path(loaded: Any) -> None:
    """The generated workload exercises index reads, the columnar mirror (scans and GROUP BY), row-by-row
    scans (what the mirror leaves to them), ordered index walks and index counts."""
    db, _, _ = loaded
    seen = {db.explain(q)["access"] for q in (
        "SELECT k FROM diff_items WHERE s = 'apple'",
        "SELECT k FROM diff_items WHERE f > 3",
        "SELECT k FROM diff_items WHERE f > i",
        "SELECT k FROM diff_items ORDER BY ts DESC LIMIT 5",
        "SELECT cat, COUNT(*) FROM diff_items GROUP BY cat",
        "SELECT COUNT(*) FROM diff_items WHERE cat = 'x'",
    )}
    assert seen == {"index", "mirror", "scan", "index-order", "index-count"}
