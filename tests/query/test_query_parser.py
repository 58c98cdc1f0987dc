"""Parsing into the typed logical plan: the SQL subset, the REM forms' own grammar, parameters, positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rem_db import QueryError
from rem_db.query import lexical
from rem_db.query.parse import parse
from rem_db.query.plan import (
    Aggregate,
    And,
    Between,
    Column,
    Compare,
    Const,
    ExplainPlan,
    Field,
    InList,
    IsNull,
    Like,
    LookupPlan,
    Not,
    Or,
    Param,
    SearchPlan,
    SelectPlan,
    Star,
    TraversePlan,
)


def select(text: str) -> SelectPlan:
    stmt = parse(text).statement
    assert isinstance(stmt, SelectPlan)
    return stmt


def test_select_clauses_become_a_typed_plan() -> None:
    plan = select("select sku, metadata.author AS who, count(*) FROM Items WHERE price >= 2 "
                  "GROUP BY sku, metadata.author ORDER BY who DESC NULLS FIRST, 1 LIMIT 5 OFFSET 2")
    assert plan.table == "items"  # unquoted names are case-insensitive
    assert [c.name for c in plan.columns if isinstance(c, Column)] == ["sku", "who", "count(*)"]
    assert plan.columns[1].expr == Field(("metadata", "author"), plan.columns[1].expr.pos)
    assert isinstance(plan.columns[2].expr, Aggregate) and plan.columns[2].expr.arg is None
    assert isinstance(plan.where, Compare) and plan.where.op == ">=" and plan.where.right.value == 2
    assert [f.path for f in plan.group_by] == [("sku",), ("metadata", "author")]
    assert [(k.expr, k.descending, k.nulls_first) for k in plan.order_by] == [(1, True, True), (0, False, False)]
    assert plan.limit.value == 5 and plan.offset.value == 2


def test_where_operators() -> None:
    plan = select("SELECT * FROM t WHERE a = 1 AND (b <> 'x' OR c IS NOT NULL) AND d NOT IN (1, -2.5, NULL) "
                  "AND e NOT BETWEEN ? AND ? AND f ILIKE 'x%' AND NOT g LIKE 'a!%' ESCAPE '!' AND h")
    assert isinstance(plan.columns[0], Star)
    where = plan.where
    assert isinstance(where, And) and len(where.items) == 7  # the AND chain is flattened
    a, b_or_c, d, e, f, g, h = where.items
    assert isinstance(a, Compare) and a.left.path == ("a",)
    assert isinstance(b_or_c, Or) and b_or_c.items[0].op == "!=" and isinstance(b_or_c.items[1], Not)
    assert isinstance(d, Not) and isinstance(d.item, InList)
    assert [i.value for i in d.item.items] == [1, -2.5, None]
    assert isinstance(e, Not) and isinstance(e.item, Between) and e.item.low == Param(0, e.item.low.pos)
    assert isinstance(f, Like) and f.insensitive
    assert isinstance(g, Not) and isinstance(g.item, Like) and g.item.escape == "!"
    assert h.expr.path == ("h",)
    assert isinstance(b_or_c.items[1].item, IsNull)


def test_quoted_identifiers_and_strings() -> None:
    plan = select("""SELECT "My Field" FROM "items" WHERE "My Field" = 'it''s' AND x = 'a\\b'""")
    assert plan.columns[0].name == "My Field"
    assert plan.where.items[0].right.value == "it's"
    assert plan.where.items[1].right.value == "a\\b"  # backslash is not an escape in SQL strings


def test_typed_timestamp_literals() -> None:
    plan = select("SELECT * FROM t WHERE created_at > TIMESTAMP '2025-01-02 03:04:05' AND d = DATE '2025-01-02'")
    assert [c.right.value for c in plan.where.items] == ["2025-01-02 03:04:05", "2025-01-02"]


def test_parameters_are_numbered_in_text_order() -> None:
    parsed = parse("SELECT a FROM t WHERE a = ? AND b IN (?, ?) AND c BETWEEN ? AND ? LIMIT ? OFFSET ?")
    assert parsed.positional == 7
    where = parsed.statement.where
    keys = [where.items[0].right.key, *(i.key for i in where.items[1].items), where.items[2].low.key,
            where.items[2].high.key, parsed.statement.limit.key, parsed.statement.offset.key]
    assert keys == list(range(7))
    named = parse("SELECT a FROM t WHERE a = :x OR b = :y OR c = :x")
    assert named.named == ("x", "y") and named.positional == 0
    swapped = parse("SELECT a FROM t OFFSET ? LIMIT ?")
    assert swapped.statement.offset.key == 0 and swapped.statement.limit.key == 1


def test_parameter_positions_point_at_the_marker() -> None:
    text = "SELECT a FROM t WHERE a = ? AND b = ?"
    assert parse(text).statement.where.items[1].right.pos == text.rindex("?")
    text = "SELECT a FROM t WHERE a = :x AND b = :name"
    assert parse(text).statement.where.items[1].right.pos == text.index(":name")


def test_long_in_lists_take_the_fast_path_and_keep_positions() -> None:
    items = ", ".join(f"'v{i}'" for i in range(10_000))
    text = f"SELECT * FROM t WHERE a IN ({items}) AND b = 'x'"
    compacted, lists = lexical.compact(text)
    assert len(compacted) == len(text) and len(lists) == 1
    plan = select(text)
    values = [i.value for i in plan.where.items[0].items]
    assert values == [f"v{i}" for i in range(10_000)]
    assert plan.where.items[1].left.pos == text.index("b = 'x'")
    mixed = parse("SELECT * FROM t WHERE a IN (" + ", ".join("?" for _ in range(100)) + ") AND b = ?")
    assert mixed.positional == 101 and mixed.statement.where.items[1].right.key == 100


def test_in_list_compaction_ignores_strings_and_comments() -> None:
    quoted = "SELECT * FROM t WHERE a = ' IN (" + ", ".join(["1"] * 40) + ")'"
    assert lexical.compact(quoted)[1] == {}
    commented = "SELECT * FROM t -- IN (" + ", ".join(["1"] * 40) + ")\nWHERE a = 1"
    assert lexical.compact(commented)[1] == {}
    text = "SELECT '?' , \"?\" , ? , x::int, :n -- ?\n"
    assert lexical.placeholders(text) == ([text.index("? ,")], {"n": text.index(":n")})


@pytest.mark.parametrize(("text", "keys"), [
    ("LOOKUP 'a'", ["a"]),
    ("lookup 'a', 'b' ,'c'", ["a", "b", "c"]),
    ("LOOKUP 'it''s', 'x IN y, z'", ["it's", "x IN y, z"]),
    ("Lookup 'https://x.org/a b:c'", ["https://x.org/a b:c"]),
    ("LOOKUP '日本', ''", ["日本", ""]),
    ("LOOKUP 'a';", ["a"]),
])
def test_lookup_grammar(text: str, keys: list[str]) -> None:
    stmt = parse(text).statement
    assert isinstance(stmt, LookupPlan) and [k.value for k in stmt.keys] == keys


def test_search_grammar() -> None:
    stmt = parse("SEARCH 'hello IN world, WHERE x LIMIT 3' IN docs WHERE a = 'LIMIT 5' AND (b < 2) LIMIT 7").statement
    assert isinstance(stmt, SearchPlan)
    assert stmt.text.value == "hello IN world, WHERE x LIMIT 3"
    assert stmt.table == "docs" and stmt.limit.value == 7
    assert stmt.where_text == "a = 'LIMIT 5' AND (b < 2)"
    assert isinstance(stmt.where, And) and stmt.where.items[0].right.value == "LIMIT 5"
    bare = parse("search 'x'").statement
    assert bare.table is None and bare.where is None and bare.limit is None
    assert parse("SEARCH 'x' LIMIT 2").statement.limit.value == 2
    assert parse('SEARCH \'x\' IN "My_Table"').statement.table == "My_Table"
    params = parse("SEARCH ? IN docs WHERE year > ? AND tag = ? LIMIT ?")
    stmt = params.statement
    assert params.positional == 4 and stmt.text.key == 0 and stmt.where.items[1].right.key == 2
    assert stmt.limit.key == 3
    where_pos = "SEARCH 'x' WHERE  nope = 1"
    assert parse(where_pos).statement.where.left.pos == where_pos.index("nope")


def test_traverse_grammar() -> None:
    stmt = parse("TRAVERSE FROM 'Monstera' DEPTH 3 DIRECTION both TYPE 'is_a'").statement
    assert isinstance(stmt, TraversePlan)
    assert (stmt.start.value, stmt.depth.value, stmt.direction, stmt.rel_type.value) == ("Monstera", 3, "both",
                                                                                        "is_a")
    any_order = parse("traverse from 'a' type 'knows' limit 5 direction IN depth 2").statement
    assert (any_order.direction, any_order.depth.value, any_order.limit.value) == ("in", 2, 5)
    listed = parse("TRAVERSE FROM 'x' TYPE 'a', 'b:c' DEPTH 2").statement
    assert listed.rel_type.value == "a" and [t.value for t in listed.more_types] == ["b:c"]
    assert listed.depth.value == 2
    default = parse("TRAVERSE FROM 'x'").statement
    assert default.depth is None and default.direction == "out" and default.rel_type is None
    assert isinstance(parse("TRAVERSE FROM ? DEPTH ?").statement.depth, Param)


def test_explain_wraps_any_statement() -> None:
    for text in ("EXPLAIN SELECT * FROM t", "explain analyze SELECT * FROM t", "EXPLAIN LOOKUP 'a'"):
        assert isinstance(parse(text).statement, ExplainPlan)


def test_leading_comments() -> None:
    assert isinstance(parse("-- daily report\nSELECT * FROM t -- all rows").statement, SelectPlan)
    assert isinstance(parse("/* keys */ LOOKUP 'a'").statement, LookupPlan)
    assert isinstance(parse("-- a\n/* b */ EXPLAIN -- c\nTRAVERSE FROM 'x'").statement, ExplainPlan)
    with pytest.raises(QueryError, match="empty query"):
        parse("-- nothing here")


@pytest.mark.parametrize(("text", "message", "column"), [
    ("SELECT * FORM t", "syntax error", 15),  # sqlglot reads FORM as an alias of *
    ("SELECT a FROM t WHERE (a = 1", "syntax error", None),
    ("SELECT a FROM t WHERE a = 'x", "unterminated quoted string", 27),
    ("LOOKUP 'abc", "unterminated quoted string", 8),
    ("LOOKUP abc", "expected a key as a quoted string", 8),
    ("LOOKUP", "expected a key", 7),
    ("LOOKUP 'a' 'b'", "unexpected text", 12),
    ("SEARCH", "expected the search text", 7),
    ("SEARCH 'x' IN", "expected a table name", 14),
    ("SEARCH 'x' WHERE", "WHERE needs a condition", 17),
    ("SEARCH 'x' WHERE a = LIMIT 3", "syntax error", None),
    ("SEARCH 'x' LIMIT 0", "LIMIT must be a positive integer", 18),
    ("SEARCH 'x' ORDER BY a", "expected IN table, WHERE or LIMIT", 12),
    ("SEARCH 'x' WHERE a = 1 ORDER BY a", "ORDER BY is not allowed in a WHERE condition", 24),
    ("TRAVERSE 'x'", "expected FROM after TRAVERSE", 10),
    ("TRAVERSE FROM 'x' DEPTH 99", "DEPTH must be an integer from 1 to 10, got 99", 25),
    ("TRAVERSE FROM 'x' DEPTH 0", "DEPTH must be an integer from 1 to 10", 25),
    ("TRAVERSE FROM 'x' DEPTH two", "DEPTH must be an integer", 25),
    ("TRAVERSE FROM 'x' DIRECTION up", "DIRECTION must be out, in or both", 29),
    ("TRAVERSE FROM 'x' DEPTH 2 DEPTH 3", "DEPTH is given twice", 27),
    ("TRAVERSE FROM 'x' SIDEWAYS", "expected DEPTH, DIRECTION, TYPE or LIMIT", 19),
    ("EXPLAIN", "EXPLAIN needs a query", 8),
    ("EXPLAIN EXPLAIN SELECT * FROM t", "EXPLAIN cannot be nested", 9),
    ("SELECT a FROM t WHERE a = ? AND b = :b", "either ? parameters or :name parameters", 37),
    ("SELECT a FROM t WHERE a = :__rem_x", "reserved", 27),
    ("SELECT a FROM t WHERE a = $1", "$1 parameters are not supported", None),
])
def test_syntax_errors_name_the_position(text: str, message: str, column: int | None) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert message in str(info.value)
    if column is not None:
        assert info.value.line == 1 and info.value.column == column, str(info.value)
        assert f"line 1, column {column}" in str(info.value)


def test_positions_on_later_lines() -> None:
    with pytest.raises(QueryError) as info:
        parse("SELECT a\nFROM t\nWHERE a = 1 +\n  2")
    assert (info.value.line, info.value.column) == (3, 11) and "operator +" in str(info.value)


@pytest.mark.parametrize(("text", "construct", "column"), [
    ("SELECT * FROM a JOIN b ON a.x = b.x", "JOIN", 17),
    ("SELECT * FROM a, b", "several tables in FROM", 18),
    ("SELECT * FROM (SELECT * FROM a) s", "subquery in FROM", 15),
    ("SELECT * FROM a WHERE x IN (SELECT y FROM b)", "subquery in IN", 29),
    ("SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b)", "EXISTS", 23),
    ("SELECT SUM(x) OVER () FROM a", "window function", None),
    ("SELECT ROW_NUMBER() OVER (ORDER BY x) FROM a", "window function", None),
    ("INSERT INTO a VALUES (1)", "INSERT statements are not supported", 1),
    ("UPDATE a SET x = 1", "UPDATE statements are not supported", 1),
    ("DELETE FROM a", "DELETE statements are not supported", 1),
    ("CREATE TABLE a (x INT)", "CREATE statements are not supported", 1),
    ("DROP TABLE a", "DROP statements are not supported", 1),
    ("SELECT * FROM a UNION SELECT * FROM b", "UNION", None),
    ("WITH c AS (SELECT * FROM a) SELECT * FROM c", "WITH (common table expression)", 1),
    ("SELECT DISTINCT x FROM a", "DISTINCT", 8),
    ("SELECT x, COUNT(*) FROM a GROUP BY x HAVING COUNT(*) > 1", "HAVING", 38),
    ("SELECT * FROM a WHERE CASE WHEN x THEN 1 END = 1", "CASE expression", 23),
    ("SELECT * FROM a WHERE CAST(x AS INT) = 1", "CAST", 23),
    ("SELECT * FROM a WHERE lower(x) = 'a'", "function LOWER()", 23),
    ("SELECT * FROM a WHERE frobnicate(x) = 'a'", "unknown function FROBNICATE()", 23),
    ("SELECT upper(x) FROM a", "function UPPER()", 8),
    ("SELECT * FROM a WHERE x = y * 2", "operator *", None),
    ("SELECT * FROM a WHERE x || 'a' = 'b'", "operator ||", None),
    ("SELECT x + 1 FROM a", "operator +", None),
    ("SELECT 1 FROM a", "constant 1", 8),
    ("SELECT * FROM a WHERE x IS TRUE", "IS TRUE is not supported", None),
    ("SELECT * FROM a WHERE x IS NOT DISTINCT FROM 1", "IS NOT DISTINCT FROM", None),
    ("SELECT COUNT(DISTINCT x) FROM a", "COUNT(DISTINCT …) is not supported", 8),
    ("SELECT SUM(*) FROM a", "SUM(*) is not supported", 8),
    ("SELECT * FROM a WHERE COUNT(*) > 1", "aggregate COUNT(*) is not allowed in WHERE", 23),
    ("SELECT x FROM a GROUP BY y", "must appear in GROUP BY", 8),
    ("SELECT *, COUNT(*) FROM a", "SELECT * cannot be combined with aggregates", 8),
    ("SELECT x, COUNT(*) FROM a GROUP BY x ORDER BY y", "must be a GROUP BY column", 47),
    ("SELECT * FROM a ORDER BY 1", "cannot be used with SELECT *", 26),
    ("SELECT x FROM a ORDER BY 3", "position 3 is out of range", 26),
    ("SELECT * FROM a LIMIT -1", "LIMIT must be a non-negative integer, got -1", 23),
    ("SELECT * FROM a LIMIT 1.5", "LIMIT must be a non-negative integer", 23),
    ("SELECT * FROM a LIMIT 'x'", "LIMIT must be a non-negative integer", 23),
    ("SELECT * FROM a OFFSET -2", "OFFSET must be a non-negative integer, got -2", 24),
    ("SELECT * FROM a LIMIT ALL", "LIMIT must be a non-negative integer, got ALL", 17),
    ("SELECT * FROM a WHERE x = TIMESTAMP 'soon'", "TIMESTAMP literal 'soon' is not an ISO-8601", 37),
    ("SELECT *", "a FROM clause naming a table is required", 1),
    ("SELECT * FROM a; SELECT * FROM b", "only one statement per query", 16),
    ("SELECT * FROM s.a", "schema-qualified table name", None),
    ("SELECT * FROM read_csv('x.csv')", "table function in FROM", None),
    ("SELECT * FROM a WHERE x IN (y, z)", "IN list items must be literals or parameters", 29),
    ("SELECT * FROM a WHERE x LIKE y", "LIKE pattern must be a string literal", 30),
    ("SELECT * FROM a WHERE 42", "constant 42 is not a condition", 23),
    ("SELECT * FROM a WHERE (x, y) = (1, 2)", "row value", None),
    ("SELECT ? FROM a", "parameters are not supported in the SELECT list", 8),
])
def test_unsupported_constructs_are_named_with_their_position(text: str, construct: str, column: int | None) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    message = str(info.value)
    assert construct in message, message
    assert "line 1, column" in message, message
    if column is not None:
        assert info.value.column == column, message


@pytest.mark.parametrize("text", ["", "   ", "\n\t", ";", " ; "])
def test_empty_query(text: str) -> None:
    with pytest.raises(QueryError, match="empty query"):
        parse(text)


def test_deep_nesting_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="nests too deeply"):
        parse("SELECT * FROM t WHERE " + "(" * 3000 + "a = 1" + ")" * 3000)


def test_long_or_chains_parse_without_recursion() -> None:
    plan = select("SELECT * FROM t WHERE " + " OR ".join(f"a = {i}" for i in range(3000)))
    assert isinstance(plan.where, Or) and len(plan.where.items) == 3000
    assert plan.where.items[-1].right == Const(2999, plan.where.items[-1].right.pos)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5), st.sampled_from(["LOOKUP", "lookup", "LoOkUp"]))
def test_lookup_keys_round_trip(keys: list[str], keyword: str) -> None:
    stmt = parse(f"{keyword} " + " , ".join(_quote(k) for k in keys)).statement
    assert [k.value for k in stmt.keys] == keys


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20), st.none() | st.integers(1, 500))
def test_search_text_and_condition_round_trip(query: str, value: str, limit: int | None) -> None:
    text = f"SEARCH {_quote(query)} IN docs WHERE tag = {_quote(value)}" + (f" LIMIT {limit}" if limit else "")
    stmt = parse(text).statement
    assert stmt.text.value == query and stmt.table == "docs"
    assert stmt.where.right.value == value and (stmt.limit.value if stmt.limit else None) == limit


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(min_size=1, max_size=20), st.integers(1, 10),
       st.sampled_from(["out", "in", "both", "OUT", "Both"]))
def test_traverse_round_trip(start: str, rel: str, depth: int, direction: str) -> None:
    stmt = parse(f"TRAVERSE FROM {_quote(start)} TYPE {_quote(rel)} DIRECTION {direction} DEPTH {depth}").statement
    assert (stmt.start.value, stmt.rel_type.value, stmt.depth.value, stmt.direction) == (
        start, rel, depth, direction.lower())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_sql_string_literals_round_trip(value: str) -> None:
    stmt = select(f"SELECT * FROM t WHERE a = {_quote(value)} AND b IN ({_quote(value)}, 'x')")
    assert stmt.where.items[0].right.value == value
    assert stmt.where.items[1].items[0].value == value
