"""The real `rem` on inputs that used to end in a traceback (issue 18, item 8): `error: ...` naming the
culprit, exit code 1, nothing on stdout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import Rem


def test_lookup_of_a_key_that_is_not_utf8(rem: Rem, products_table: str) -> None:
    # argv bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape)
    result = rem.fails("lookup", os.fsdecode(b"\xff"))
    assert "key '\\udcff' is not valid text: lone surrogate U+DCFF (the byte 0xff, which is not UTF-8)" \
        in result.err


def test_lookup_names_the_bad_key_among_good_ones(rem: Rem, products_table: str) -> None:
    result = rem.fails("lookup", "PP-1", os.fsdecode(b"a\xfeb"))
    assert "key 'a\\udcfeb'" in result.err and "the byte 0xfe" in result.err and "position 1" in result.err


@pytest.mark.parametrize("sql", [
    "SELECT * FROM products WHERE stock = 18446744073709551616",
    "SELECT * FROM products WHERE stock IN (1, 18446744073709551616)",
])
def test_query_with_an_integer_beyond_64_bits(rem: Rem, products_table: str, sql: str) -> None:
    result = rem.fails("query", sql)
    assert "integer 18446744073709551616 is out of range: stored integers are 64-bit" in result.err
    assert "(at line 1, column" in result.err


def test_query_with_a_parameter_that_is_not_utf8(rem: Rem, products_table: str) -> None:
    # (a --param 18446744073709551616 is read as JSON, which makes it a float: no error there)
    result = rem.fails("query", "SELECT * FROM products WHERE name = ?", "--param", os.fsdecode(b"\xff"))
    assert "parameter ?1 is not valid Unicode text (lone surrogate U+DCFF" in result.err


def test_query_text_that_is_not_utf8(rem: Rem, products_table: str) -> None:
    result = rem.fails("query", os.fsdecode(b"SELECT * FROM products WHERE name = '\xff'"))
    assert "the query text is not valid Unicode: lone surrogate U+DCFF (the byte 0xff, which is not UTF-8) " \
           "(at line 1, column 38)" in result.err


def test_count_where_with_an_integer_beyond_64_bits(rem: Rem, products_table: str) -> None:
    result = rem.fails("count", "products", "--where", "stock > 18446744073709551616")
    assert "integer 18446744073709551616 is out of range" in result.err


def test_sum_overflow(rem: Rem, products_table: str) -> None:
    rem.ok("insert", "products", json.dumps([{"product_code": "A", "price": 1e308},
                                             {"product_code": "B", "price": 1e308}]))
    result = rem.fails("query", "SELECT SUM(price) FROM products")
    assert "SUM(price) overflows" in result.err


def test_schema_add_with_a_list_key_field(rem: Rem, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"title": "keys", "description": "Keys.", "type": "object",
                                "properties": {"f1": {"type": "string"}}, "key_field": ["f1"]}))
    result = rem.fails("schema", "add", str(path))
    assert "schema 'keys': key_field must be one field name (a string), not list ['f1']" in result.err


def test_schema_add_of_a_deeply_nested_file(rem: Rem, tmp_path: Path) -> None:
    inner = '{"type": "string"}'
    for _ in range(500):
        inner = '{"type": "object", "properties": {"a": ' + inner + "}}"
    path = tmp_path / "deep.json"
    path.write_text('{"title": "deep", "description": "d", "type": "object", "properties": {"a": ' + inner + "}}")
    result = rem.fails("schema", "add", str(path))
    assert f"schema file {path} nests too deeply to read" in result.err


def test_schema_add_of_a_changed_schema_under_the_same_version(rem: Rem, products_file: Path) -> None:
    rem.ok("schema", "add", str(products_file))
    changed = json.loads(products_file.read_text())
    changed["indexed_fields"] = ["name"]
    products_file.write_text(json.dumps(changed))
    result = rem.fails("schema", "add", str(products_file))
    assert "schema 'products' version 1.0.0 is already registered with a different definition" in result.err
    assert "indexed_fields: ['price'] -> ['name']" in result.err
    assert "--force" in result.err
    rem.ok("schema", "add", str(products_file), "--force")
