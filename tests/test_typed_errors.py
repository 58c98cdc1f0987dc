"""Inputs that used to escape as untyped Python errors (issue 18, item 8): each is now a DatabaseError
subclass whose message names the key, token, parameter, field or aggregate at fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database, QueryError, SchemaError, ValidationError

BIG = 2**64  # one past the largest integer a stored JSON value can hold

TABLE: dict[str, Any] = {
    "title": "t",
    "description": "Values for the typed-error tests.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "v": {"type": "integer"}, "x": {"type": "number"}},
    "key_field": "name",
    "indexed_fields": ["v", "name"],
}


@pytest.fixture
def t(db: Database) -> str:
    db.register_schema(json.loads(json.dumps(TABLE)))
    db.insert_batch("t", [{"name": "a", "v": 1, "x": 1e308}, {"name": "b", "v": 2, "x": 1e308},
                          {"name": "c", "v": 3, "x": -1e308}])
    return "t"


def _deep(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        inner = {"type": "object", "properties": {"a": inner}}
    return {"title": "deep", "description": "Deeply nested.", "type": "object", "properties": {"a": inner}}


# -- lookup keys -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["\ud800", "ok\udcffok"])
def test_lookup_of_a_lone_surrogate_is_a_validation_error(db: Database, t: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.lookup(key)
    assert f"key {key!r} is not valid text" in str(err.value)
    assert "lone surrogate U+" in str(err.value)


def test_lookup_batch_names_the_bad_key(db: Database, t: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.lookup_batch(["a", "\udcff"])
    assert "'\\udcff'" in str(err.value) and "the byte 0xff, which is not UTF-8" in str(err.value)


def test_lookup_form_with_a_lone_surrogate_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query("LOOKUP '\ud800'")
    assert "not valid Unicode: lone surrogate U+D800 (at line 1, column 9)" in str(err.value)


# -- integers beyond 64 bits and bad text in SQL -------------------------------------------------------------
@pytest.mark.parametrize(("sql", "column"), [
    ("SELECT * FROM t WHERE v = 18446744073709551616", 27),
    ("SELECT * FROM t WHERE x > 18446744073709551616", 27),
    ("SELECT * FROM t WHERE v IN (1, 18446744073709551616)", 32),
    ("SELECT * FROM t WHERE v BETWEEN 1 AND 18446744073709551616", 39),
    ("SELECT * FROM t LIMIT 18446744073709551616", 23),
])
def test_integer_literal_beyond_64_bits_is_a_query_error(db: Database, t: str, sql: str, column: int) -> None:
    with pytest.raises(QueryError) as err:
        db.query(sql)
    assert "integer 18446744073709551616 is out of range: stored integers are 64-bit" in str(err.value)
    assert f"(at line 1, column {column})" in str(err.value)


def test_negative_integer_literal_below_64_bits_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query("SELECT * FROM t WHERE v = -9223372036854775809")
    assert "integer -9223372036854775809 is out of range" in str(err.value)
    assert "column 27" in str(err.value)


def test_integer_beyond_64_bits_in_a_long_in_list_is_a_query_error(db: Database, t: str) -> None:
    items = ", ".join(str(n) for n in range(40))  # long lists take the lexical fast path
    with pytest.raises(QueryError) as err:
        db.query(f"SELECT * FROM t WHERE v IN ({items}, {BIG})")
    assert f"integer {BIG} is out of range" in str(err.value)


def test_extreme_integers_inside_the_range_still_work(db: Database, t: str) -> None:
    assert db.query("SELECT * FROM t WHERE v = 18446744073709551615") == []
    assert db.query("SELECT * FROM t WHERE v > -9223372036854775808 ORDER BY v")[0]["name"] == "a"
    assert db.query("SELECT * FROM t WHERE v = ?", [2**64 - 1]) == []


def test_count_where_with_an_integer_beyond_64_bits_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.count("t", where="v = 18446744073709551616")
    assert "integer 18446744073709551616 is out of range" in str(err.value)


def test_float_literal_beyond_the_float_range_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query("SELECT * FROM t WHERE x < 1e999")
    assert "number 1e999 is out of range" in str(err.value)


def test_lone_surrogate_in_query_text_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query("SELECT * FROM t WHERE name = '\ud800'")
    assert "the query text is not valid Unicode: lone surrogate U+D800 (at line 1, column 31)" in str(err.value)
    with pytest.raises(QueryError) as err:
        db.count("t", where="name = '\udcff'")
    assert "lone surrogate U+DCFF (the byte 0xff, which is not UTF-8)" in str(err.value)


# -- parameters ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sql", "params", "fragment"), [
    ("SELECT * FROM t WHERE v = ?", [BIG], f"parameter ?1 is {BIG}, outside the 64-bit range"),
    ("SELECT * FROM t WHERE name = ? AND v = ?", ("a", -(2**63) - 1), "parameter ?2 is -9223372036854775809"),
    ("SELECT * FROM t WHERE v = :big", {"big": BIG}, f"parameter :big is {BIG}"),
    ("SELECT * FROM t WHERE v IN ?", [[1, BIG]], f"parameter ?1 has item 1 that is {BIG}"),
    ("SELECT * FROM t WHERE name = ?", ["\ud800"], "parameter ?1 is not valid Unicode text (lone surrogate U+D800"),
    ("SELECT * FROM t LIMIT ?", [BIG], f"parameter ?1 is {BIG}"),
])
def test_unstorable_parameter_is_a_query_error(db: Database, t: str, sql: str, params: Any, fragment: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query(sql, params)
    assert fragment in str(err.value)
    assert "(at line 1, column" in str(err.value)


def test_unstorable_parameter_of_count_where_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.count("t", where="v > ?", params=[BIG])
    assert f"parameter ?1 is {BIG}" in str(err.value)


@pytest.mark.parametrize("params", [5, 1.5, object(), "text", b"bytes"])
def test_params_of_the_wrong_type_are_a_query_error(db: Database, t: str, params: Any) -> None:
    with pytest.raises(QueryError) as err:
        db.query("SELECT * FROM t", params)
    assert ("params must be a list (for ? parameters) or a mapping (for :name parameters), not "
            f"{type(params).__name__}") in str(err.value)


def test_empty_params_still_work_without_parameters(db: Database, t: str) -> None:
    assert len(db.query("SELECT * FROM t", [])) == 3
    assert len(db.query("SELECT * FROM t", {})) == 3
    assert len(db.query("SELECT * FROM t", None)) == 3


# -- schemas ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key_field", [["f1"], {"name": "f1"}, 3])
def test_key_field_that_is_not_a_string_is_a_schema_error(db: Database, key_field: Any) -> None:
    raw = {"title": "k", "description": "Keys.", "type": "object", "properties": {"f1": {"type": "string"}},
           "key_field": key_field}
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    assert f"schema 'k': key_field must be one field name (a string), not {type(key_field).__name__}" \
        in str(err.value)
    assert db.schemas.find("k") is None


def test_key_field_list_in_json_schema_extra_is_a_schema_error(db: Database) -> None:
    raw = {"title": "k", "description": "Keys.", "type": "object", "properties": {"f1": {"type": "string"}},
           "json_schema_extra": {"key_field": ["f1"]}}
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    assert "key_field must be one field name" in str(err.value) and "['f1']" in str(err.value)


def test_embedding_provider_that_is_not_a_string_is_a_schema_error(db: Database) -> None:
    raw = {"title": "k", "description": "Keys.", "type": "object", "properties": {"f1": {"type": "string"}},
           "embedding_provider": ["local:x"]}
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    assert "schema 'k': embedding_provider must be a provider spec string" in str(err.value)


@pytest.mark.parametrize("levels", [150, 500, 2000])
def test_deeply_nested_schema_dict_is_a_schema_error(db: Database, levels: int) -> None:
    with pytest.raises(SchemaError) as err:
        db.register_schema(_deep(levels))
    assert "schema 'deep' nests more than 200 levels of objects and arrays (at properties.a.properties" \
        in str(err.value)
    assert db.schemas.find("deep") is None


def test_deeply_nested_schema_file_is_a_schema_error(db: Database, tmp_path: Path) -> None:
    inner = '{"type": "string"}'
    for _ in range(500):  # built as text: json.dumps itself would recurse too deep
        inner = '{"type": "object", "properties": {"a": ' + inner + "}}"
    path = tmp_path / "deep.json"
    path.write_text('{"title": "deep", "description": "d", "type": "object", "properties": {"a": ' + inner + "}}")
    with pytest.raises(SchemaError) as err:
        db.register_schema(str(path))
    assert f"schema file {path} nests too deeply to read" in str(err.value)


def test_moderately_nested_schema_still_registers(db: Database) -> None:
    assert db.register_schema(_deep(60))["short_name"] == "deep"


# -- aggregates ------------------------------------------------------------------------------------------
def test_sum_overflowing_the_float_range_is_a_query_error(db: Database, t: str) -> None:
    with pytest.raises(QueryError) as err:
        db.query("SELECT SUM(x) FROM t WHERE x > 0")
    assert "SUM(x) overflows: the total is beyond the largest float" in str(err.value)


def test_sum_whose_running_total_overflows_but_whose_result_fits_is_exact(db: Database, t: str) -> None:
    # 1e308 + 1e308 - 1e308: math.fsum overflows on the way, the exact total is 1e308
    assert db.query("SELECT SUM(x) FROM t") == [{"sum(x)": 1e308}]


def test_sum_falls_back_to_the_exact_total_when_fsum_overflows_on_the_way() -> None:
    from rem_db.query.aggregate import AggSpec

    rows = [{"x": 1e308}, {"x": 1e308}, {"x": -1e308}]  # in this order math.fsum overflows
    assert AggSpec("sum", ("x",), "sum(x)", False, "SUM(x)").compute(rows, None) == 1e308
    assert AggSpec("avg", ("x",), "avg(x)", False, "AVG(x)").compute(rows, None) == pytest.approx(1e308 / 3)
    with pytest.raises(QueryError) as err:
        AggSpec("sum", ("x",), "sum(x)", False, "SUM(x)").compute(rows[:2], None)
    assert "SUM(x) overflows" in str(err.value)


def test_avg_of_values_near_the_float_limit_is_their_mean(db: Database, t: str) -> None:
    assert db.query("SELECT AVG(x) FROM t WHERE x > 0") == [{"avg(x)": 1e308}]


def test_sum_of_integers_beyond_64_bits_is_a_query_error(db: Database, t: str) -> None:
    db.insert_batch("t", [{"name": "big1", "v": 2**64 - 1}, {"name": "big2", "v": 2**64 - 1}])
    with pytest.raises(QueryError) as err:
        db.query("SELECT SUM(v) FROM t")
    assert f"SUM(v) overflows: the total {2 * (2**64 - 1) + 6} is outside the 64-bit integer range" \
        in str(err.value)
    assert db.query("SELECT AVG(v) FROM t WHERE v > 10") == [{"avg(v)": float(2**64 - 1)}]
