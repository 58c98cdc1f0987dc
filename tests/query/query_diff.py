"""A seeded generator of rows and SQL queries for the differential test against DuckDB (imported as
``query_diff``).

Each query is generated once as a small tree and rendered twice: as REM SQL (timestamps as ISO-8601 text
with offsets) and as DuckDB SQL (``TIMESTAMP '…'`` literals in naive UTC). Only queries whose meaning
both engines share are generated; the deliberate divergences are listed in docs/query.md.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

UTC = dt.UTC

SCHEMA: dict[str, Any] = {
    "title": "diff_items",
    "type": "object",
    "description": "Generated rows for the differential test.",
    "properties": {
        "k": {"type": "integer"},
        "i": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "f": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        "s": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "t": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "cat": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "ts": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "flag": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        "meta": {"anyOf": [{"type": "object", "properties": {
            "author": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        }}, {"type": "null"}]},
    },
    "required": ["k"],
    "key_field": "k",
    "indexed_fields": ["i", "s", "cat", "ts"],
}

DUCK_COLUMNS = {
    "id": "VARCHAR", "k": "BIGINT", "i": "BIGINT", "f": "DOUBLE", "s": "VARCHAR", "t": "VARCHAR", "cat": "VARCHAR",
    "ts": "TIMESTAMP", "flag": "BOOLEAN", "meta": "STRUCT(author VARCHAR, score DOUBLE, n BIGINT)",
    "created_at": "TIMESTAMP",
}

WORDS = ["apple", "Apple", "APPLE", "äpfel", "Äpfel", "banana", "bánh mì", "café", "cafe", "naïve", "日本",
         "日本語", "😀 smile", "zebra", "Zürich", "", "a_b", "a%b", "O'Brien", "x", "xy", "xyz", "Ωmega", "ωmega",
         "straße", "tab\there", "line\nbreak", "ab", "abc", "abd", "b", "B", "Été", "été", "ñandú", "NAÏVE",
         "emoji 🎉 party", "quote \"q\"", "back\\slash", "end."]
CATS = ["x", "y", "z", "w"]
AUTHORS = ["ann", "bob", "Ann", "zoë", "李"]
NUM_FIELDS = ["i", "f", "k", "meta.score", "meta.n"]
STR_FIELDS = ["s", "t", "cat", "meta.author"]
TS_FIELDS = ["ts", "created_at"]
GROUP_FIELDS = ["cat", "i", "s", "flag", "meta.author", "meta.n"]


def _ts(rng: random.Random) -> dt.datetime:
    base = dt.datetime(2020, 1, 1, tzinfo=UTC)
    return base + dt.timedelta(seconds=rng.randrange(6 * 365 * 86400), microseconds=rng.choice([0, 0, 500_000,
                                                                                               rng.randrange(10**6)]))


def iso(moment: dt.datetime, rng: random.Random | None = None) -> str:
    """ISO text of an aware datetime, in a random offset and style (same instant)."""
    if rng is None:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    offset = dt.timedelta(hours=rng.choice([0, 0, 2, -5, 5.5]))
    local = moment.astimezone(dt.timezone(offset))
    text = local.isoformat()
    return text.replace("+00:00", "Z") if rng.random() < 0.7 else text


def naive_utc(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def make_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        row: dict[str, Any] = {"k": k}

        def maybe(name: str, value: Callable[[], Any], p_null: float = 0.1, p_missing: float = 0.05,
                  row: dict[str, Any] = row) -> None:
            r = rng.random()
            if r < p_missing:
                return
            row[name] = None if r < p_missing + p_null else value()

        maybe("i", lambda: rng.randint(-50, 50))
        maybe("f", lambda: rng.choice([round(rng.uniform(-1000, 1000), 3), float(rng.randint(-5, 5)),
                                       rng.randint(-5, 5), rng.uniform(-1, 1)]))
        maybe("s", lambda: rng.choice(WORDS))
        maybe("t", lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) + str(rng.randint(0, 99)))
        maybe("cat", lambda: rng.choice(CATS))
        maybe("ts", lambda: iso(_ts(rng), rng))
        maybe("flag", lambda: rng.random() < 0.5)
        r = rng.random()
        if r < 0.15:
            pass
        elif r < 0.2:
            row["meta"] = None
        else:
            meta: dict[str, Any] = {}
            if rng.random() < 0.9:
                meta["author"] = rng.choice([*AUTHORS, None])
            if rng.random() < 0.8:
                meta["score"] = rng.choice([None, round(rng.uniform(0, 100), 2)])
            if rng.random() < 0.8:
                meta["n"] = rng.choice([None, rng.randint(0, 9)])
            row["meta"] = meta
        rows.append(row)
    return rows


def duck_row(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity as a DuckDB row (timestamps naive UTC text, meta as a struct or NULL)."""
    from rem_db.storage.codec import parse_timestamp

    out: dict[str, Any] = {}
    for name in DUCK_COLUMNS:
        value = entity.get(name)
        if name in ("ts", "created_at") and value is not None:
            moment = parse_timestamp(value)
            assert moment is not None
            value = naive_utc(moment)
        if name == "meta" and isinstance(value, dict):
            value = {"author": value.get("author"), "score": value.get("score"), "n": value.get("n")}
        out[name] = value
    return out


# -- queries -------------------------------------------------------------------------------------------
@dataclass
class Query:
    rem: str
    duck: str
    ordered: bool  # compare in order (ORDER BY is total) or as multisets
    ts_columns: tuple[int, ...] = ()  # output positions holding timestamps


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Gen:
    """Generates predicates and queries over the rows actually loaded."""

    def __init__(self, rows: list[dict[str, Any]], seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows = rows
        self.ids = [r["id"] for r in rows]
        self.created = sorted({r["created_at"] for r in rows})

    # literals: (rem text, duck text)
    def num(self, field: str) -> tuple[str, str]:
        rng = self.rng
        if field == "k":
            v: Any = rng.randint(-10, len(self.rows) + 10)
        elif field == "meta.n":
            v = rng.randint(-1, 10)
        elif field == "meta.score":
            v = rng.choice([round(rng.uniform(0, 100), 2), 50, 0])
        elif field == "f":
            v = rng.choice([round(rng.uniform(-1000, 1000), 1), rng.randint(-5, 5), 0.5, -0.25, 1e3])
        else:
            v = rng.randint(-55, 55)
        text = repr(v) if isinstance(v, float) else str(v)
        return text, text

    def string(self, field: str) -> tuple[str, str]:
        rng = self.rng
        pool = {"cat": [*CATS, "v", "X"], "meta.author": [*AUTHORS, "ANN", "carl"]}.get(field, [*WORDS, "aa", "zz"])
        v = rng.choice(pool)
        return sql_str(v), sql_str(v)

    def timestamp(self, field: str) -> tuple[str, str]:
        rng = self.rng
        if field == "created_at":
            moment = rng.choice([*(dt.datetime.fromisoformat(c.replace("Z", "+00:00")) for c in self.created),
                                 dt.datetime(2020, 1, 1, tzinfo=UTC)])
            moment += dt.timedelta(microseconds=rng.choice([0, -1, 1]))
        else:
            moment = _ts(rng)
        style = rng.random()
        if style < 0.2:
            day = moment.astimezone(UTC).date()
            return sql_str(day.isoformat()), f"TIMESTAMP '{day.isoformat()} 00:00:00'"
        return sql_str(iso(moment, rng)), f"TIMESTAMP '{naive_utc(moment)}'"

    def literal(self, field: str) -> tuple[str, str]:
        if field in NUM_FIELDS:
            return self.num(field)
        if field in TS_FIELDS:
            return self.timestamp(field)
        return self.string(field)

    def like_pattern(self) -> str:
        rng = self.rng
        word = rng.choice([w for w in WORDS if w])
        cut = word[: rng.randint(1, len(word))]
        forms = [cut + "%", "%" + cut, "%" + cut + "%", cut, "_" + cut[1:] + "%" if len(cut) > 1 else "_%",
                 cut[:1] + "%" + cut[-1:], "%", "__%", "a%b%"]
        return rng.choice(forms)

    def leaf(self) -> tuple[str, str]:
        rng = self.rng
        kind = rng.choices(["cmp", "in", "between", "null", "like", "flag", "id"],
                           [8, 3, 2, 2, 3, 1, 1])[0]
        field = rng.choice(NUM_FIELDS + STR_FIELDS + TS_FIELDS)
        if kind == "cmp":
            op = rng.choice(["=", "!=", "<>", "<", "<=", ">", ">="])
            a, b = self.literal(field)
            if rng.random() < 0.15:  # literal on the left
                return f"{a} {op} {field}", f"{b} {op} {field}"
            return f"{field} {op} {a}", f"{field} {op} {b}"
        if kind == "in":
            lits = [self.literal(field) for _ in range(rng.randint(1, 6))]
            if rng.random() < 0.15:
                lits.append(("NULL", "NULL"))
            neg = "NOT " if rng.random() < 0.3 else ""
            return (f"{field} {neg}IN ({', '.join(a for a, _ in lits)})",
                    f"{field} {neg}IN ({', '.join(b for _, b in lits)})")
        if kind == "between":
            (a1, b1), (a2, b2) = self.literal(field), self.literal(field)
            neg = "NOT " if rng.random() < 0.25 else ""
            return f"{field} {neg}BETWEEN {a1} AND {a2}", f"{field} {neg}BETWEEN {b1} AND {b2}"
        if kind == "null":
            field = rng.choice([*NUM_FIELDS, *STR_FIELDS, "ts", "flag", "meta"])
            neg = "NOT " if rng.random() < 0.5 else ""
            return f"{field} IS {neg}NULL", f"{field} IS {neg}NULL"
        if kind == "like":
            field = rng.choice(STR_FIELDS)
            op = rng.choice(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"])
            pattern = sql_str(self.like_pattern())
            return f"{field} {op} {pattern}", f"{field} {op} {pattern}"
        if kind == "flag":
            form = rng.choice(["flag", "NOT flag", "flag = TRUE", "flag = FALSE", "flag != TRUE"])
            return form, form
        picks = [sql_str(rng.choice(self.ids)) for _ in range(rng.randint(1, 4))]
        if len(picks) == 1:
            return f"id = {picks[0]}", f"id = {picks[0]}"
        return f"id IN ({', '.join(picks)})", f"id IN ({', '.join(picks)})"

    def predicate(self, depth: int = 0) -> tuple[str, str]:
        rng = self.rng
        if depth >= 3 or rng.random() < 0.45:
            return self.leaf()
        kind = rng.choice(["AND", "AND", "OR", "NOT"])
        if kind == "NOT":
            a, b = self.predicate(depth + 1)
            return f"NOT ({a})", f"NOT ({b})"
        parts = [self.predicate(depth + 1) for _ in range(rng.randint(2, 3))]
        return (f" {kind} ".join(f"({a})" for a, _ in parts), f" {kind} ".join(f"({b})" for _, b in parts))

    def where(self) -> tuple[str, str]:
        if self.rng.random() < 0.08:
            return "", ""
        a, b = self.predicate()
        return f" WHERE {a}", f" WHERE {b}"

    def query(self) -> Query:
        rng = self.rng
        shape = rng.choices(["rows", "ordered", "agg", "group", "topgroup"], [4, 3, 2, 2, 1])[0]
        wa, wb = self.where()
        if shape == "rows":
            return Query(f"SELECT k FROM diff_items{wa}", f"SELECT k FROM t{wb}", False)
        if shape == "ordered":
            keys = rng.sample(["i", "f", "s", "cat", "ts", "flag", "meta.author", "meta.score", "created_at", "t"],
                              rng.randint(1, 2))
            order = ", ".join(f"{k}{rng.choice(['', ' ASC', ' DESC'])}{rng.choice(['', '', ' NULLS FIRST'])}"
                              for k in keys)
            order += f", k{rng.choice(['', ' DESC'])}"
            cols = ["k", *keys]
            limit = ""
            if rng.random() < 0.7:
                limit = f" LIMIT {rng.choice([0, 1, 3, 10, 50, 200])}"
                if rng.random() < 0.4:
                    limit += f" OFFSET {rng.choice([0, 1, 5, 40])}"
            select = ", ".join(cols)
            ts_cols = tuple(i for i, c in enumerate(cols) if c in TS_FIELDS)
            return Query(f"SELECT {select} FROM diff_items{wa} ORDER BY {order}{limit}",
                         f"SELECT {select} FROM t{wb} ORDER BY {order}{limit}", True, ts_cols)
        if shape == "agg":
            aggs = ["COUNT(*)", "COUNT(f)", "COUNT(meta.author)", "SUM(i)", "SUM(f)", "AVG(i)", "AVG(meta.score)",
                    "MIN(s)", "MAX(s)", "MIN(ts)", "MAX(ts)", "MIN(f)", "MAX(i)", "SUM(meta.n)", "MIN(created_at)"]
            chosen = rng.sample(aggs, rng.randint(1, 5))
            ts_cols = tuple(i for i, a in enumerate(chosen) if "ts)" in a or "created_at" in a)
            select = ", ".join(chosen)
            return Query(f"SELECT {select} FROM diff_items{wa}", f"SELECT {select} FROM t{wb}", False, ts_cols)
        group = rng.choice(GROUP_FIELDS)
        aggs = rng.sample(["COUNT(*)", "SUM(i)", "MIN(f)", "MAX(s)", "AVG(f)", "COUNT(ts)", "MAX(ts)"],
                          rng.randint(1, 3))
        select = ", ".join([group, *aggs])
        ts_cols = tuple(i + 1 for i, a in enumerate(aggs) if a == "MAX(ts)")
        if shape == "group":
            return Query(f"SELECT {select} FROM diff_items{wa} GROUP BY {group}",
                         f"SELECT {select} FROM t{wb} GROUP BY {group}", False, ts_cols)
        n = rng.choice([1, 3, 5])
        return Query(f"SELECT {group}, COUNT(*) AS n FROM diff_items{wa} GROUP BY {group} ORDER BY n DESC, "
                     f"{group} LIMIT {n}",
                     f"SELECT {group}, COUNT(*) AS n FROM t{wb} GROUP BY {group} ORDER BY n DESC, {group} "
                     f"LIMIT {n}", True)


# -- comparing results ---------------------------------------------------------------------------------
def normalize(value: Any, timestamp: bool) -> Any:
    from rem_db.storage.codec import parse_timestamp

    if value is None:
        return None
    if timestamp and isinstance(value, str):
        moment = parse_timestamp(value)
        assert moment is not None
        return moment.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict):
        return tuple(sorted((k, normalize(v, False)) for k, v in value.items()))
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return (type(a) is type(b) and a == b) or (a == b and not isinstance(a, bool) and not isinstance(b, bool))


def sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for v in row:
        if v is None:
            out.append((0, ""))
        elif isinstance(v, bool):
            out.append((1, str(v)))
        elif isinstance(v, int | float):
            out.append((2, f"{round(float(v), 6):.6f}"))
        else:
            out.append((3, repr(v)))
    return tuple(out)


def rows_equal(rem: list[tuple[Any, ...]], duck: list[tuple[Any, ...]], ordered: bool) -> bool:
    if len(rem) != len(duck):
        return False
    if not ordered:
        rem, duck = sorted(rem, key=sort_key), sorted(duck, key=sort_key)
    return all(same(x, y) for x, y in zip(rem, duck, strict=True))
