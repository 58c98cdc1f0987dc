"""The fuzz campaign of issue 18 (c): SQL text, parameters, JSON values, schemas, keys and `rem` arguments.

The property, for every input: the call succeeds or raises a :class:`rem_db.DatabaseError` subclass — no other
exception escapes, a refused query never quotes the SQL parser's own terms, the CLI exits 0 or 1 (2 for a usage
error, typer's convention) and never prints a traceback — and the database stays usable (it answers a query,
and it holds exactly the rows whose writes succeeded). An exception raised by the input's own code (a
``__repr__`` that fails) and passed on unchanged is not a failure.

Inputs are near misses of valid ones (valid queries with tokens dropped, doubled, swapped or replaced by keywords,
punctuation or random Unicode including lone surrogates) and hostile values (NaN, huge integers, bytes, sets,
deep nesting, objects that are not JSON). A target does not stop at its first failure: it runs all its inputs
and then fails listing each kind of failure (exception type and the line that raised it) with the shortest input
that caused it. Hypothesis is derandomized, so a run tries the same inputs every time and a failure reproduces.

The default run tries a few hundred inputs per target; ``pytest -m long tests/test_fuzz.py -s`` tries 100,000 in
total and prints the figures per target.
"""

from __future__ import annotations

import copy
import enum
import math
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rem_db import Database, DatabaseError, QueryError, SchemaError

sys.path.insert(0, str(Path(__file__).resolve().parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem

# inputs per target: (default run, long run); the long run's figures add up to 100,000
BUDGET = {"sql": (400, 40_000), "params": (250, 15_000), "values": (400, 20_000), "schemas": (200, 10_000),
          "keys": (300, 14_700), "cli": (6, 300)}
assert sum(long for _, long in BUDGET.values()) == 100_000

ITEMS: dict[str, Any] = {
    "title": "items", "type": "object", "description": "Typed rows for the fuzz campaign.",
    "properties": {
        "sku": {"type": "string"}, "name": {"type": "string"}, "price": {"type": "number"},
        "qty": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"}, "meta": {"type": "object"},
        "released": {"type": "string", "format": "date-time"},
    },
    "required": ["sku"], "key_field": "sku", "indexed_fields": ["price", "qty", "tags"],
}
LOOSE: dict[str, Any] = {"title": "loose", "type": "object", "description": "Schemaless rows."}
SEED_ROWS = [{"sku": f"S{i}", "name": f"item {i}", "price": i * 1.5, "qty": i, "tags": ["a", "b"][: i % 3],
              "active": i % 2 == 0, "meta": {"author": "ann" if i % 2 else "bob", "rating": i % 5},
              "released": f"2024-0{1 + i % 9}-01T00:00:00Z"} for i in range(12)]

# Words of sqlglot's own messages that must never reach a user.
PARSER_WORDS = ("sqlglot", "Required keyword", "Invalid expression", "Unexpected token", "SENTINEL", "Token(",
                "ALIAS statements", "TokenType")

# -- the campaign bookkeeping ------------------------------------------------------------------------------


@dataclass
class Campaign:
    """Counts the inputs of one target and keeps, per kind of failure, the shortest input that caused it."""

    target: str
    tried: int = 0
    failed: int = 0
    kinds: dict[str, tuple[str, str]] = field(default_factory=dict)

    def attempt(self, shown: str, call: Callable[[], Any]) -> Any:
        """Run one call: a DatabaseError is a correct refusal (if its message is in the user's terms); anything
        else is recorded as a failure."""
        self.tried += 1
        try:
            return call()
        except DatabaseError as exc:
            leak = next((word for word in PARSER_WORDS if word in str(exc) and word not in shown), None)
            if leak is not None and isinstance(exc, QueryError):
                self.record(f"{type(exc).__name__} quoting the parser ({leak})", shown, str(exc)[:200])
            return None
        except Exception as exc:  # the property under test: nothing but DatabaseError may escape
            if not _raised_by_the_input(exc):
                self.record(_where(exc), shown, f"{type(exc).__name__}: {exc}"[:200])
            return None

    def record(self, kind: str, shown: str, message: str) -> None:
        self.failed += 1
        old = self.kinds.get(kind)
        if old is None or len(shown) < len(old[0]):
            self.kinds[kind] = (shown, message)

    def report(self, seconds: float) -> str:
        return f"fuzz {self.target}: {self.tried} inputs, {self.failed} failures, {seconds:.1f} s"

    def check(self) -> None:
        assert not self.kinds, f"{self.failed} of {self.tried} {self.target} inputs failed:\n" + "\n".join(
            f"  {kind}: {message}\n      shortest input: {shown}" for kind, (shown, message) in self.kinds.items())


def _raised_by_the_input(exc: BaseException) -> bool:
    """An exception raised by the input's own code (a ``__repr__`` that fails), passed on unchanged: the library
    did nothing wrong, as ``json.dumps`` passes on what a ``default`` function raises."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename == __file__


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "rem_db" in f.filename] or frames
    last = ours[-1] if ours else None
    place = f"{Path(last.filename).parent.name}/{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__} at {place}"


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a repr that fails is itself an input
        text = f"<{type(value).__name__} whose repr fails>"
    return text if len(text) <= 400 else text[:400] + f"… ({len(text)} chars)"


def explore(campaign: Campaign, strategy: st.SearchStrategy[Any], examples: int,
            body: Callable[[Any], None]) -> None:
    """Run ``body`` on ``examples`` inputs drawn (deterministically) from ``strategy``."""

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case: Any) -> None:
        body(case)

    run()


def budget(target: str, long: bool) -> int:
    return BUDGET[target][1 if long else 0]


def assert_usable(db: Database, rows: dict[str, int]) -> None:
    """The database answers, and every table holds the rows whose writes succeeded."""
    assert db.query("SELECT sku, price FROM items WHERE sku = 'S3'") == [{"sku": "S3", "price": 4.5}]
    for table, expected in rows.items():
        assert db.count(table) == expected, table
        assert db.query(f"SELECT COUNT(*) AS n FROM {table}") == [{"n": expected}]
    probe = db.insert("loose", {"probe": True})
    assert db.get(probe["id"])["probe"] is True
    db.delete(probe["id"], hard=True)


@pytest.fixture
def fuzz_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "db")
    db.register_schema(copy.deepcopy(ITEMS))
    db.register_schema(copy.deepcopy(LOOSE))
    db.insert_batch("items", copy.deepcopy(SEED_ROWS))
    a, b = db.get_batch([db.lookup("S1")[0]["id"], db.lookup("S2")[0]["id"]])
    assert a is not None and b is not None
    db.add_edge(a["id"], b["id"], "related_to")
    try:
        yield db
    finally:
        db.close()


def finish(campaign: Campaign, started: float, long: bool) -> None:
    if long:
        print("\n" + campaign.report(time.monotonic() - started))
    campaign.check()


# -- 1. SQL text: near misses of valid queries ---------------------------------------------------------------
VALID = [
    "SELECT * FROM items",
    "SELECT sku, price FROM items WHERE price > 2 AND qty < 10 ORDER BY price DESC LIMIT 3",
    "SELECT sku AS s, meta.author FROM items i WHERE i.tags = 'a' OR name LIKE 'item%' ORDER BY 2 NULLS FIRST",
    "SELECT meta.author, COUNT(*) AS n, SUM(qty), AVG(price), MIN(sku), MAX(released) FROM items GROUP BY "
    "meta.author ORDER BY n DESC",
    "SELECT sku FROM items WHERE qty IN (1, 2, 3) AND price BETWEEN 1 AND 9 AND NOT active LIMIT 5 OFFSET 1",
    "SELECT sku FROM items WHERE released > TIMESTAMP '2024-03-01' AND name NOT ILIKE '%9' ESCAPE '!'",
    "SELECT sku FROM items WHERE (price IS NULL OR price >= 0) AND meta.rating IS NOT NULL",
    "SELECT COUNT(*) FROM loose WHERE n = 1",
    "SELECT \"sku\" FROM \"items\" WHERE \"name\" = 'it''s'",
    "FROM items SELECT sku WHERE qty = 0",
    "EXPLAIN SELECT * FROM items WHERE price < 5",
    "LOOKUP 'S1', 'S2'",
    "TRAVERSE FROM 'S1' DEPTH 2 DIRECTION both TYPE 'related_to' LIMIT 5",
    "SEARCH 'pots' IN items WHERE price > 1 LIMIT 3",
]
KEYWORDS = ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "GROUP", "BY", "ORDER", "LIMIT", "OFFSET", "AS", "IN",
            "IS", "NULL", "LIKE", "BETWEEN", "ASC", "DESC", "NULLS", "JOIN", "ON", "HAVING", "UNION", "CASE", "WHEN",
            "DISTINCT", "EXPLAIN", "LOOKUP", "SEARCH", "TRAVERSE", "DEPTH", "INSERT", "DELETE", "TRUE", "COUNT",
            "SELEC", "FORM", "WHER"]
PUNCTUATION = [*",;()[]{}.*=<>!?:'\"`@#$%^&|~+-/\\", "::", "<>", "!=", "||", "--", "/*", "*/", "‘", "’", "“", "”",
               "≠", "\u00a0", "\x00"]
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\w+|\s+|.", re.DOTALL)

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)  # incl. lone surrogates
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
replacement = st.sampled_from(KEYWORDS) | st.sampled_from(PUNCTUATION) | any_text | surrogates | st.sampled_from(
    ["18446744073709551616", "-9223372036854775809", "1e999", "1.5e", "0x1F", "$1", "?1", ":when", "'", "''"])
mutation = st.tuples(st.sampled_from(["drop", "duplicate", "swap", "replace", "insert"]), st.integers(0, 200),
                     replacement)


def mutate(text: str, mutations: list[tuple[str, int, str]]) -> str:
    parts = _TOKEN.findall(text)
    for op, at, new in mutations:
        if not parts:
            parts = [new]
            continue
        k = at % len(parts)
        if op == "drop":
            del parts[k]
        elif op == "duplicate":
            parts.insert(k, parts[k])
        elif op == "swap" and k + 1 < len(parts):
            parts[k], parts[k + 1] = parts[k + 1], parts[k]
        elif op == "replace":
            parts[k] = new
        else:
            parts.insert(k, new)
    return "".join(parts)


sql_case = st.tuples(st.sampled_from(VALID), st.lists(mutation, min_size=1, max_size=4), st.booleans())


def run_sql(db: Database, long: bool) -> None:
    campaign, started = Campaign("sql"), time.monotonic()

    def body(case: tuple[str, list[tuple[str, int, str]], bool]) -> None:
        base, mutations, as_condition = case
        text = mutate(base, mutations)
        if as_condition and " WHERE " in base:  # the condition alone, as db.count(where=...) takes it
            condition = mutate(base.split(" WHERE ", 1)[1], mutations)
            campaign.attempt(f"count('items', where={condition!r})", lambda: db.count("items", where=condition))
        else:
            campaign.attempt(f"query({text!r})", lambda: db.query(text))

    explore(campaign, sql_case, budget("sql", long), body)
    assert_usable(db, {"items": len(SEED_ROWS), "loose": 0})
    finish(campaign, started, long)


def test_fuzz_sql_text(fuzz_db: Database) -> None:
    run_sql(fuzz_db, long=False)


@pytest.mark.long
def test_fuzz_sql_text_long(fuzz_db: Database) -> None:
    run_sql(fuzz_db, long=True)


# -- 2. parameters: any value, wrong arity, wrong types ------------------------------------------------------
class Colour(enum.Enum):
    RED = "red"


class Opaque:
    """An object no database can store."""


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")


scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63 - 2, max_value=2**70)
           | st.integers(min_value=-(2**70), max_value=-(2**63) + 2) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=10) | surrogates | st.binary(max_size=6) | st.just(Colour.RED) | st.builds(Opaque)
           | st.builds(BadRepr) | st.complex_numbers(allow_nan=True, allow_infinity=True) | st.decimals()
           | st.datetimes() | st.dates() | st.times() | st.uuids() | st.just(object) | st.just(math.pi)
           | st.builds(bytearray, st.binary(max_size=4)) | st.just(Ellipsis))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.frozensets(st.integers(), max_size=3) | st.sets(st.text(max_size=3), max_size=3)
                      | st.dictionaries(st.text(max_size=5) | st.integers() | st.none(), inner, max_size=4),
                      max_leaves=12)
PARAM_QUERIES = [
    "SELECT sku FROM items WHERE price > ? AND name = ?",
    "SELECT sku FROM items WHERE qty IN ? ORDER BY sku LIMIT ?",
    "SELECT sku FROM items WHERE released > :when OR sku = :sku",
    "SELECT sku FROM items WHERE tags = :t LIMIT :n OFFSET :m",
    "SELECT COUNT(*) FROM loose WHERE v = ? OR w LIKE ?",
    "SELECT sku FROM items WHERE id = ?",
    "LOOKUP ?, :x",
    "LOOKUP ?",
    "TRAVERSE FROM ? DEPTH ? TYPE ?",
    "SEARCH ? IN items LIMIT ?",
]
params = (values | st.lists(values, max_size=4) | st.tuples(values, values)
          | st.dictionaries(st.sampled_from(["when", "sku", "t", "n", "m", "x", "y", ""]) | st.text(max_size=4)
                            | st.integers(), values, max_size=4))


def run_params(db: Database, long: bool) -> None:
    campaign, started = Campaign("params"), time.monotonic()

    def body(case: tuple[str, Any, bool]) -> None:
        text, bound, counted = case
        if counted:
            campaign.attempt(f"count('items', where='price > ? OR sku = ?', params={_shown(bound)})",
                             lambda: db.count("items", where="price > ? OR sku = ?", params=bound))
        else:
            campaign.attempt(f"query({text!r}, {_shown(bound)})", lambda: db.query(text, bound))

    explore(campaign, st.tuples(st.sampled_from(PARAM_QUERIES), params, st.booleans()), budget("params", long),
            body)
    assert_usable(db, {"items": len(SEED_ROWS), "loose": 0})
    finish(campaign, started, long)


def test_fuzz_parameters(fuzz_db: Database) -> None:
    run_params(fuzz_db, long=False)


@pytest.mark.long
def test_fuzz_parameters_long(fuzz_db: Database) -> None:
    run_params(fuzz_db, long=True)


# -- 3. JSON values: inserts, batches and updates ------------------------------------------------------------
def nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


deep = st.builds(nested, st.integers(1, 3000), st.sampled_from(["list", "dict"]))
long_text = st.builds(str.__mul__, st.sampled_from(["a", "é", "\ud800"]), st.sampled_from([300, 70_000]))
json_values = values | deep | long_text | st.sampled_from([float("nan"), float("inf"), -float("inf"), 2**64,
                                                           -(2**63) - 1, b"bytes", {1, 2}, 1j, "\ud800", "\x00"])
fields = st.sampled_from(["v", "sku", "price", "qty", "tags", "active", "meta", "released", "id", "created_at",
                          "deleted_at", "edges", "entity_type", "", "a.b", "\ud800", "x" * 300]) | st.text(max_size=6)
write = st.one_of(
    st.tuples(st.just("loose"), st.dictionaries(fields, json_values, max_size=3)),
    st.tuples(st.just("loose-raw"), json_values),
    st.tuples(st.just("items"), st.dictionaries(fields, json_values, max_size=3)),
    st.tuples(st.just("batch"), st.lists(st.dictionaries(fields, json_values, max_size=2) | json_values, max_size=4)),
    st.tuples(st.just("update"), st.dictionaries(fields, json_values, max_size=2) | json_values),
)


def run_values(db: Database, long: bool) -> None:
    campaign, started = Campaign("values"), time.monotonic()
    ids: dict[str, set[str]] = {"items": {db.lookup(r["sku"])[0]["id"] for r in SEED_ROWS}, "loose": set()}
    target = db.insert("loose", {"v": 0})["id"]
    ids["loose"].add(target)

    def stored(table: str, done: Any) -> None:
        for row in done if isinstance(done, list) else [done]:
            if isinstance(row, dict):
                ids[table].add(row["id"])

    def body(case: tuple[str, Any]) -> None:
        kind, data = case
        if kind in ("loose", "loose-raw"):
            stored("loose", campaign.attempt(f"insert('loose', {_shown(data)})", lambda: db.insert("loose", data)))
        elif kind == "items":
            row = {"sku": f"F{campaign.tried}", **data} if isinstance(data, dict) else data
            stored("items", campaign.attempt(f"insert('items', {_shown(row)})", lambda: db.insert("items", row)))
        elif kind == "batch":
            stored("loose", campaign.attempt(f"insert_batch('loose', {_shown(data)})",
                                             lambda: db.insert_batch("loose", data)))
        else:
            campaign.attempt(f"update(id, {_shown(data)})", lambda: db.update(target, data))

    explore(campaign, write, budget("values", long), body)
    assert_usable(db, {table: len(found) for table, found in ids.items()})
    finish(campaign, started, long)


def test_fuzz_json_values(fuzz_db: Database) -> None:
    run_values(fuzz_db, long=False)


@pytest.mark.long
def test_fuzz_json_values_long(fuzz_db: Database) -> None:
    run_values(fuzz_db, long=True)


# -- 4. schemas: random dicts and YAML for register_schema ---------------------------------------------------
schema_keys = st.sampled_from(["title", "name", "short_name", "type", "description", "properties", "required",
                               "key_field", "indexed_fields", "embedding_fields", "additionalProperties",
                               "version", "category", "json_schema_extra", "$defs", "items", "format", "enum",
                               "anyOf", "default", "force"]) | st.text(max_size=5)
titles = st.sampled_from([f"fz{i}" for i in range(8)] + ["items", "loose", "resources", "", "Has Space", "a" * 200,
                                                         "\ud800", "x.y", "1abc"])
type_names = st.sampled_from(["string", "number", "integer", "boolean", "array", "object", "null", "date",
                              "strin", "", "text"]) | st.lists(st.sampled_from(["string", "null", "integer"]),
                                                               max_size=3)
field_schema = st.recursive(
    st.fixed_dictionaries({"type": type_names}, optional={"format": st.sampled_from(["date-time", "uuid", "x"]),
                                                          "default": json_values, "enum": st.lists(scalars,
                                                                                                   max_size=3)}),
    lambda inner: st.fixed_dictionaries({"type": st.just("array"), "items": inner})
    | st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=4), inner,
                                                                                       max_size=3)})
    | st.fixed_dictionaries({"anyOf": st.lists(inner, max_size=3)}),
    max_leaves=6)
field_names = st.sampled_from(["a", "b", "id", "created_at", "edges", "", "a.b", "\ud800"]) | st.text(max_size=4)
plausible = st.fixed_dictionaries(
    {"title": titles},
    optional={"type": st.sampled_from(["object", "array", 5, None]),
              "description": st.text(max_size=10) | scalars,
              "properties": st.dictionaries(field_names, field_schema | json_values, max_size=4) | json_values,
              "required": st.lists(field_names, max_size=3) | json_values,
              "key_field": field_names | st.lists(field_names, max_size=2) | json_values,
              "indexed_fields": st.lists(field_names, max_size=3) | json_values,
              "embedding_fields": st.lists(field_names, max_size=2) | json_values,
              "additionalProperties": st.booleans() | field_schema | json_values,
              "version": st.sampled_from(["1.0.0", "2", "", "x.y.z"]) | json_values,
              "category": st.text(max_size=5) | json_values})
random_dict = st.dictionaries(schema_keys, json_values, max_size=5)
valid_ish = st.fixed_dictionaries(  # mostly registrable: the paths past validation get inputs too
    {"title": titles, "type": st.just("object"), "description": st.text(min_size=1, max_size=10)},
    optional={"properties": st.dictionaries(field_names, field_schema, max_size=4),
              "key_field": field_names, "indexed_fields": st.lists(field_names, max_size=2),
              "additionalProperties": st.booleans(), "category": st.sampled_from(["user", "public", "x"])})
schema_input = st.one_of(
    st.tuples(st.just("dict"), valid_ish | plausible | random_dict, st.booleans()),
    st.tuples(st.just("yaml"), valid_ish | plausible | random_dict, st.booleans()),
    st.tuples(st.just("yaml-text"), st.text(max_size=80), st.booleans()),
    st.tuples(st.just("other"), json_values | st.sampled_from(["no-such-file.yaml", "module:Class", "os:path"]),
              st.booleans()))


def run_schemas(db: Database, tmp_path: Path, long: bool) -> None:
    campaign, started = Campaign("schemas"), time.monotonic()
    path = tmp_path / "schema.yaml"

    def body(case: tuple[str, Any, bool]) -> None:
        kind, data, force = case
        shown, source = f"register_schema({_shown(data)}, force={force})", data
        if kind in ("yaml", "yaml-text"):
            try:
                text = data if kind == "yaml-text" else yaml.safe_dump(data, allow_unicode=True)
                path.write_text(text, encoding="utf-8", errors="surrogatepass")
                shown, source = f"register_schema(<YAML file: {text[:300]!r}>, force={force})", path
            except (yaml.YAMLError, ValueError, RecursionError):
                pass  # not representable as YAML: the dict itself is registered
        done = campaign.attempt(shown, lambda: db.register_schema(source, force=force))
        if isinstance(done, dict) and not done.get("embedding_fields") and isinstance(done.get("short_name"), str):
            table = done["short_name"]
            campaign.attempt(f"{shown}; insert + query", lambda: (db.insert(table, {}),
                                                                  db.query(f'SELECT * FROM "{table}" LIMIT 1')))

    explore(campaign, schema_input, budget("schemas", long), body)
    assert db.query("SELECT sku FROM items WHERE sku = 'S3'") == [{"sku": "S3"}]
    names = [s["short_name"] for s in db.list_schemas()]
    assert "items" in names and "loose" in names
    finish(campaign, started, long)


def test_fuzz_schemas(fuzz_db: Database, tmp_path: Path) -> None:
    run_schemas(fuzz_db, tmp_path, long=False)


@pytest.mark.long
def test_fuzz_schemas_long(fuzz_db: Database, tmp_path: Path) -> None:
    run_schemas(fuzz_db, tmp_path, long=True)


# -- 5. keys: lookup / get / traverse with odd strings and non-strings ----------------------------------------
keys = (st.text(max_size=12) | any_text | surrogates | st.sampled_from(["S1", "", " ", "\x00", "S1\x00",
                                                                        "00000000-0000-0000-0000-000000000000",
                                                                        "not-a-uuid", "%", "*", "'; DROP"]) | long_text
        | st.uuids() | st.integers() | st.binary(max_size=8) | st.none() | st.floats() | st.builds(Opaque)
        | st.lists(st.text(max_size=3), max_size=3))
KEY_CALLS: dict[str, Callable[[Database, Any], Any]] = {
    "lookup": lambda db, k: db.lookup(k),
    "lookup_batch": lambda db, k: db.lookup_batch([k, "S1"]),
    "lookup_batch(raw)": lambda db, k: db.lookup_batch(k),
    "get": lambda db, k: db.get(k),
    "get_batch": lambda db, k: db.get_batch([k]),
    "edges": lambda db, k: db.edges(k),
    "traverse": lambda db, k: db.traverse(k, depth=2, direction="both"),
    "neighbors_batch": lambda db, k: db.neighbors_batch([k]),
    "query LOOKUP": lambda db, k: db.query("LOOKUP ?", [k]),
    "query TRAVERSE": lambda db, k: db.query("TRAVERSE FROM ? DIRECTION both", [k]),
    "count where id": lambda db, k: db.count("items", where="id = ?", params=[k]),
}


def run_keys(db: Database, long: bool) -> None:
    campaign, started = Campaign("keys"), time.monotonic()

    def body(case: tuple[str, Any]) -> None:
        name, key = case
        campaign.attempt(f"{name}({_shown(key)})", lambda: KEY_CALLS[name](db, key))

    explore(campaign, st.tuples(st.sampled_from(sorted(KEY_CALLS)), keys), budget("keys", long), body)
    assert_usable(db, {"items": len(SEED_ROWS), "loose": 0})
    finish(campaign, started, long)


def test_fuzz_keys(fuzz_db: Database) -> None:
    run_keys(fuzz_db, long=False)


@pytest.mark.long
def test_fuzz_keys_long(fuzz_db: Database) -> None:
    run_keys(fuzz_db, long=True)


# -- 6. `rem` arguments, as real subprocesses --------------------------------------------------------------
# Arguments a shell can pass: text whose lone surrogates stand for bytes that are not UTF-8 (U+DC80..U+DCFF).
cli_text = st.text(st.characters(codec=None, exclude_categories=(), exclude_characters="\x00").filter(
    lambda c: not 0xD800 <= ord(c) < 0xDC80), max_size=12)
cli_word = st.sampled_from(["--format", "-f", "json", "csv", "xml", "--param", "-p", "x=1", "1", "--where",
                            "--include-deleted", "--help", "-", "--", "--file", "--batch", "--force", "--name",
                            "--template", "items", "loose", "nope", "SELECT * FROM items", "SELEC x",
                            "SELECT * FROM items WHERE v = 18446744073709551616", "LOOKUP 'S1'", "S1", "\xff",
                            "\udcff", "{}", '{"sku": "C1"}', "[1]", "{", "schema.yaml", "schema.json"]) | cli_text
COMMANDS = [["query"], ["lookup"], ["insert"], ["insert", "loose"], ["insert", "items"], ["schema", "add"],
            ["count"], ["get"]]
cli_case = st.tuples(st.sampled_from(COMMANDS), st.lists(cli_word, max_size=4),
                     st.none() | st.binary(max_size=30) | st.sampled_from([b'{"sku": "Z1"}', b"[{}]", b"\xff\xfe",
                                                                           b'{"v": NaN}', b"title: x\n"]))


def run_cli(tmp_path: Path, long: bool) -> None:
    rem = Rem.in_tmp(tmp_path)
    with Database(rem.db_path) as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.register_schema(copy.deepcopy(LOOSE))
        db.insert_batch("items", copy.deepcopy(SEED_ROWS))
    (tmp_path / "schema.yaml").write_text("title: fzcli\ntype: object\ndescription: from the fuzz\n")
    (tmp_path / "schema.json").write_text('{"title": "fzjson", "key_field": ["a"]}')
    campaign, started = Campaign("cli"), time.monotonic()

    def body(case: tuple[list[str], list[str], bytes | None]) -> None:
        command, args, stdin = case
        argv = [*command, *args]
        shown = f"rem {' '.join(repr(a) for a in argv)}" + (f" < {stdin!r}" if stdin is not None else "")
        result = campaign.attempt(shown, lambda: rem(*argv, input=stdin))
        if result is None:
            return
        # a usage error (unknown option, missing value) stays with typer: exit code 2 and its error panel
        usage = result.code == 2 and ("Usage:" in result.err or "─ Error ─" in result.err)
        if result.code not in (0, 1) and not usage:
            campaign.record(f"exit code {result.code}", shown, result.err[-300:])
        if "Traceback" in result.err:
            campaign.record("traceback on stderr", shown, result.err[-300:])

    explore(campaign, cli_case, budget("cli", long), body)
    with Database(rem.db_path) as db:
        assert db.query("SELECT sku FROM items WHERE sku = 'S3'") == [{"sku": "S3"}]
    finish(campaign, started, long)


def test_fuzz_cli_arguments(tmp_path: Path) -> None:
    run_cli(tmp_path, long=False)


@pytest.mark.long
def test_fuzz_cli_arguments_long(tmp_path: Path) -> None:
    run_cli(tmp_path, long=True)


# -- what the campaign found, pinned -----------------------------------------------------------------------
@pytest.mark.parametrize(("source", "message"), [
    ("a" * 70_000, "is neither a file nor module:Class"),  # was OSError: file name too long
    ("a\x00b.yaml", "cannot read schema file"),  # was ValueError: embedded null byte
    (":Model", "cannot import schema model ':Model': ValueError: Empty module name"),
    ({"title": "t", "type": "object", "description": "d", "properties": {None: {"type": "string"}},
      "key_field": "a"}, "the key None under 'properties' is not text"),  # was TypeError in the model
])
def test_schema_sources_found_by_the_fuzz(fuzz_db: Database, source: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        fuzz_db.register_schema(source)


def test_yaml_schema_with_a_number_as_a_name(fuzz_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text("title: numbers\ntype: object\ndescription: d\nproperties:\n  1: {type: string}\n")
    with pytest.raises(SchemaError, match=r"the key 1 under 'properties' is not text"):
        fuzz_db.register_schema(path)
    assert "numbers" not in [s["short_name"] for s in fuzz_db.list_schemas()]
