"""Bad input at run time: unknown tables and columns, type-mismatched literals, bad parameters, SQL injection
through parameters, huge IN lists."""

from __future__ import annotations

import math

import pytest
from query_helpers import skus

from rem_db import Database, QueryError


def test_unknown_table_is_named_with_a_suggestion(shop: Database) -> None:
    with pytest.raises(QueryError) as info:
        shop.query("SELECT * FROM itemz WHERE price > 1")
    assert "unknown table 'itemz'; did you mean 'items'?" in str(info.value)
    assert (info.value.line, info.value.column) == (1, 15)
    with pytest.raises(QueryError, match=r"unknown table 'zzz' \(tables: .*items"):
        shop.query("SELECT * FROM zzz")


@pytest.mark.parametrize(("text", "message", "column"), [
    ("SELECT * FROM items WHERE pricee > 1", "unknown column 'pricee' in table 'items'; did you mean 'price'?", 27),
    ("SELECT nam FROM items", "unknown column 'nam'", 8),
    ("SELECT sku FROM items ORDER BY colour", "unknown column 'colour'", 32),
    ("SELECT colour, COUNT(*) FROM items GROUP BY colour", "unknown column 'colour'", 8),
    ("SELECT SUM(weight) FROM items", "unknown column 'weight'", 12),
    ("SELECT * FROM items WHERE bogus.x = 1", "unknown column 'bogus'", 27),
])
def test_unknown_columns_of_a_typed_table(shop: Database, text: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as info:
        shop.query(text)
    assert message in str(info.value)
    assert info.value.column == column


def test_declared_field_missing_from_a_row_is_null(shop: Database) -> None:
    # C2 has no `released` and D1 no `metadata` or `note`: they are NULL there, not errors
    assert "C2" in skus(shop.query("SELECT sku FROM items WHERE released IS NULL"))
    assert "D1" in skus(shop.query("SELECT sku FROM items WHERE metadata IS NULL AND note IS NULL"))
    row = shop.query("SELECT note, metadata.author FROM items WHERE sku = 'D1'")[0]
    assert row == {"note": None, "metadata.author": None}


def test_nested_paths_below_declared_objects_are_not_checked(shop: Database) -> None:
    assert shop.query("SELECT sku FROM items WHERE metadata.anything = 'x'") == []


@pytest.mark.parametrize(("condition", "message"), [
    ("price = 'abc'", "type mismatch: 'price' is a number, but 'abc' is a string"),
    ("qty > '5'", "type mismatch: 'qty' is an integer, but '5' is a string"),
    ("name = 5", "type mismatch: 'name' is a string, but 5 is a number"),
    ("active = 'yes'", "type mismatch: 'active' is a boolean, but 'yes' is a string"),
    ("active = 1", "type mismatch: 'active' is a boolean"),
    ("tags = 5", "type mismatch: 'tags' is a list"),
    ("metadata = 'x'", "type mismatch: 'metadata' is an object"),
    ("price IN (1, 'two')", "'two' is a string"),
    ("price BETWEEN 1 AND 'z'", "'z' is a string"),
    ("released > 'yesterday'", "'yesterday' is not an ISO-8601 timestamp"),
    ("created_at < 'soon'", "'soon' is not an ISO-8601 timestamp"),
    ("created_at = 5", "type mismatch: 'created_at' is a timestamp"),
    ("qty LIKE '1%'", "LIKE needs a string column: 'qty' is an integer"),
    ("name LIKE 5", "the LIKE pattern must be a string"),
    ("price", "'price' is a number, not a condition"),
])
def test_type_mismatched_literals(shop: Database, condition: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        shop.query(f"SELECT * FROM items WHERE {condition}")
    assert message in str(info.value)
    assert "line 1, column" in str(info.value)


def test_type_mismatch_through_parameters(shop: Database) -> None:
    with pytest.raises(QueryError, match="type mismatch: 'price' is a number, but 'abc' is a string"):
        shop.query("SELECT * FROM items WHERE price > ?", ["abc"])
    with pytest.raises(QueryError, match="not an ISO-8601 timestamp"):
        shop.query("SELECT * FROM items WHERE released > :when", {"when": "tomorrow"})


def test_aggregate_argument_types(shop: Database) -> None:
    with pytest.raises(QueryError, match=r"SUM\(name\) needs a numeric column: 'name' is a string"):
        shop.query("SELECT SUM(name) FROM items")
    with pytest.raises(QueryError, match=r"AVG\(tags\) needs a numeric column"):
        shop.query("SELECT AVG(tags) FROM items")


def test_sum_of_non_numbers_in_a_schemaless_table_is_an_error(db: Database) -> None:
    db.register_schema({"title": "loose", "type": "object", "description": "Anything."})
    db.insert_batch("loose", [{"v": 1}, {"v": "two"}])
    with pytest.raises(QueryError, match=r"SUM\(v\) needs numbers, but a row has 'two'"):
        db.query("SELECT SUM(v) FROM loose")


@pytest.mark.parametrize(("text", "params", "message"), [
    ("SELECT * FROM items LIMIT ?", [-1], "LIMIT must be a non-negative integer, got -1"),
    ("SELECT * FROM items LIMIT ?", [2.5], "LIMIT must be a non-negative integer"),
    ("SELECT * FROM items OFFSET ?", ["3"], "OFFSET must be a non-negative integer"),
    ("SELECT * FROM items WHERE price > ?", [], "has 1 ? parameter(s) but 0 value(s) were given"),
    ("SELECT * FROM items WHERE price > ?", [1, 2], "has 1 ? parameter(s) but 2 value(s) were given"),
    ("SELECT * FROM items WHERE price > ?", None, "pass their values as a list (got none)"),
    ("SELECT * FROM items WHERE price > ?", {"p": 1}, "pass their values as a list (got dict)"),
    ("SELECT * FROM items WHERE price > :p", [1], "pass a mapping (got list)"),
    ("SELECT * FROM items WHERE price > :p", {"q": 1}, "no value for parameter :p"),
    ("SELECT * FROM items WHERE price > :p", {"p": 1, "q": 2}, "parameter 'q' is not used by the query"),
    ("SELECT * FROM items", [1], "the query has no parameters but 1 value(s) were given"),
    ("SELECT * FROM items WHERE price > ?", [[1, 2]], "a list can only be bound as the values of IN"),
    ("SELECT * FROM items WHERE price > ?", [{"a": 1}], "has type dict, which cannot be bound"),
    ("SELECT * FROM items WHERE price > ?", [math.nan], "only finite numbers"),
    ("SELECT * FROM items WHERE price > ?", [object()], "has type object"),
])
def test_bad_parameters(shop: Database, text: str, params: object, message: str) -> None:
    with pytest.raises(QueryError) as info:
        shop.query(text, params)
    assert message in str(info.value)


@pytest.mark.parametrize("payload", [
    "x' OR '1'='1",
    "'; DROP TABLE items; --",
    "A1' --",
    "A1\" OR \"\"=\"",
    "') OR sku LIKE '%",
    "A1; DELETE FROM items",
])
def test_sql_injection_through_parameters_is_just_a_value(shop: Database, payload: str) -> None:
    assert shop.query("SELECT sku FROM items WHERE sku = ?", [payload]) == []
    assert shop.query("SELECT sku FROM items WHERE name = :n OR sku = :n", {"n": payload}) == []
    assert shop.query("SELECT sku FROM items WHERE sku IN ?", [[payload, "nope"]]) == []
    assert shop.query("LOOKUP ?", [payload]) == []
    assert shop.count("items") == 12  # nothing ran but the one SELECT


def test_injected_value_is_stored_and_found_verbatim(shop: Database) -> None:
    evil = "Robert'); DROP TABLE items;--"
    shop.insert("items", {"sku": evil, "name": evil})
    assert skus(shop.query("SELECT sku FROM items WHERE name = ?", [evil])) == [evil]
    assert skus(shop.query("SELECT sku FROM items WHERE name = 'Robert''); DROP TABLE items;--'")) == [evil]
    assert shop.count("items") == 13


def test_ten_thousand_element_in_lists(shop: Database) -> None:
    wanted = ["A1", "C2", "L1"]
    values = [f"nope-{i}" for i in range(9_997)] + wanted
    literal = "SELECT sku FROM items WHERE sku IN (" + ", ".join(f"'{v}'" for v in values) + ")"
    assert set(skus(shop.query(literal))) == set(wanted)
    assert set(skus(shop.query("SELECT sku FROM items WHERE sku IN ?", [values]))) == set(wanted)
    marks = "SELECT sku FROM items WHERE sku IN (" + ", ".join("?" for _ in values) + ")"
    assert set(skus(shop.query(marks, values))) == set(wanted)
    numbers = "SELECT sku FROM items WHERE qty IN (" + ", ".join(str(i) for i in range(1000, 11_000)) + ", 40)"
    assert skus(shop.query(numbers)) == ["C1"]  # indexed field: 10,001 equality reads
    assert shop.explain(numbers)["access"] == "index"
    negated = "SELECT COUNT(*) AS n FROM items WHERE sku NOT IN (" + ", ".join(f"'{v}'" for v in values) + ")"
    assert shop.query(negated) == [{"n": 9}]


def test_query_must_be_text(shop: Database) -> None:
    with pytest.raises(QueryError, match="a query is a string, not bytes"):
        shop.query(b"SELECT * FROM items")  # type: ignore[arg-type]


def test_errors_are_query_errors_and_database_errors(shop: Database) -> None:
    from rem_db import DatabaseError

    with pytest.raises(DatabaseError):
        shop.query("SELECT * FROM items WHERE")
