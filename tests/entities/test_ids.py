"""Deterministic ids (SPEC §1): exact test vectors, the rule order, non-string rendering."""

from __future__ import annotations

import copy
import uuid

import pytest

from core_helpers import ARTICLES, PRODUCTS, expected_id, schema_copy
from rem_db import Database
from rem_db.entities.ids import entity_id

VECTORS = [
    ("resources", {"uri": "https://docs.python.org"}, "uri", "a9cbc471-edfd-577e-b375-1734246420c2"),
    ("resources", {"uri": "https://docs.python.org", "chunk_ordinal": 3}, "uri",
     "0ea061d4-c472-5594-8a21-0d6b56eca23a"),
    ("articles", {"title": "Python Guide"}, "title", "209de632-fb6a-57ed-94d9-eb6e396f1b1a"),
    ("products", {"product_code": "PP-1001-SM"}, "product_code", "3bb55c7b-41fd-5639-ad56-39ead3603d0c"),
    ("resources", {"uri": "file:///tmp/a b/naïve.md", "chunk_ordinal": 1}, "uri",
     "77cf305e-e272-5a15-9af0-dc1b32cb1a92"),
]


@pytest.mark.parametrize(("table", "data", "key_field", "expected"), VECTORS)
def test_spec_vectors_via_entity_id(table: str, data: dict, key_field: str, expected: str) -> None:
    assert str(entity_id(table, data, key_field)) == expected
    assert expected_id({  # the independent implementation in core_helpers agrees with the vector
        "resources": f"resources:{data.get('uri')}:{data.get('chunk_ordinal', 0)}",
        "articles": f"articles:{data.get('title')}",
        "products": f"products:{data.get('product_code')}",
    }[table]) == expected


def test_spec_vectors_via_real_inserts(db: Database) -> None:
    db.register_schema(copy.deepcopy(ARTICLES))
    db.register_schema(copy.deepcopy(PRODUCTS))
    fill = {"resources": {"content": "text"}, "articles": {}, "products": {"name": "Pot", "price": 9.5}}
    for table, data, _key_field, expected in VECTORS:
        inserted = db.insert(table, {**data, **fill[table]})
        assert inserted["id"] == expected
        assert db.get(expected)["entity_type"] == table
    # the batch path gives the same ids
    batch = db.insert_batch("resources", [{"uri": "https://docs.python.org", "content": "again"},
                                          {"uri": "https://docs.python.org", "chunk_ordinal": 3, "content": "again"}])
    assert [r["id"] for r in batch] == [VECTORS[0][3], VECTORS[1][3]]
    assert db.count("resources") == 3


@pytest.mark.parametrize(("table", "data", "key_field", "expected"), VECTORS)
def test_vector_ids_are_uuid_v5_rfc4122(table: str, data: dict, key_field: str, expected: str) -> None:
    ident = uuid.UUID(expected)
    assert ident.version == 5
    assert ident.variant == uuid.RFC_4122


# -- rule order --------------------------------------------------------------------------------------
RULES = [
    # uri wins over key_field, key and name
    ({"uri": "u://1", "title": "T", "key": "K", "name": "N"}, "title", "t:u://1:0"),
    ({"uri": "u://1", "chunk_ordinal": 7, "title": "T"}, "title", "t:u://1:7"),
    # key_field wins over key and name
    ({"title": "T", "key": "K", "name": "N"}, "title", "t:T"),
    # key wins over name
    ({"key": "K", "name": "N"}, None, "t:K"),
    ({"key": "K", "name": "N"}, "title", "t:K"),  # key_field named but absent
    ({"title": None, "key": "K"}, "title", "t:K"),  # key_field null
    # name last
    ({"name": "N"}, None, "t:N"),
    # a non-string uri is not a uri
    ({"uri": 42, "key": "K"}, None, "t:K"),
    ({"uri": None, "name": "N"}, None, "t:N"),
]


@pytest.mark.parametrize(("data", "key_field", "hashed"), RULES)
def test_rule_order(data: dict, key_field: str | None, hashed: str) -> None:
    assert str(entity_id("t", data, key_field)) == expected_id(hashed)


@pytest.mark.parametrize("data", [{}, {"text": "no key at all"}, {"name": 5}, {"name": None}, {"key": None}])
def test_random_v4_when_no_rule_applies(data: dict) -> None:
    first, second = entity_id("t", data), entity_id("t", data)
    assert first.version == 4 and second.version == 4
    assert first != second


@pytest.mark.parametrize(("value", "rendered"), [
    (42, "42"), (True, "true"), (False, "false"), (1.5, "1.5"), (-7, "-7"),
    ([1, "a"], '[1,"a"]'), ({"a": 1}, '{"a":1}'), ("42", "42"), ("", ""),
])
def test_non_string_key_values_are_compact_json(value: object, rendered: str) -> None:
    assert str(entity_id("t", {"key": value})) == expected_id(f"t:{rendered}")
    assert str(entity_id("t", {"code": value}, "code")) == expected_id(f"t:{rendered}")


def test_chunk_ordinal_is_rendered_as_json() -> None:
    assert str(entity_id("t", {"uri": "u", "chunk_ordinal": 12})) == expected_id("t:u:12")
    assert str(entity_id("t", {"uri": "u"})) == expected_id("t:u:0")


def test_entity_type_is_part_of_the_hash() -> None:
    assert entity_id("a", {"key": "same"}) != entity_id("b", {"key": "same"})


def test_ids_from_real_inserts_follow_the_rules(db: Database, notes: str) -> None:
    assert db.insert(notes, {"key": 42})["id"] == expected_id("notes:42")
    assert db.insert(notes, {"key": True})["id"] == expected_id("notes:true")
    assert db.insert(notes, {"name": "Alpha", "key": "k-1"})["id"] == expected_id("notes:k-1")
    assert db.insert(notes, {"name": "Beta"})["id"] == expected_id("notes:Beta")
    assert db.insert(notes, {"uri": "u://x", "chunk_ordinal": 2, "name": "Gamma"})["id"] == expected_id(
        "notes:u://x:2")
    random_one = db.insert(notes, {"text": "anonymous"})
    random_two = db.insert(notes, {"text": "anonymous"})
    assert uuid.UUID(random_one["id"]).version == 4
    assert random_one["id"] != random_two["id"]
    assert db.count(notes) == 7


def test_key_field_id_from_a_user_table_with_integer_keys(db: Database) -> None:
    properties = {**PRODUCTS["properties"], "product_code": {"type": "integer"}}
    raw = schema_copy(PRODUCTS, title="codes", properties=properties)
    db.register_schema(raw)
    row = db.insert("codes", {"product_code": 1001, "name": "n", "price": 1})
    assert row["id"] == expected_id("codes:1001")


def test_explicit_id_is_kept(db: Database, notes: str) -> None:
    ident = str(uuid.uuid4())
    row = db.insert(notes, {"id": ident, "name": "Has its own id"})
    assert row["id"] == ident
    assert db.get(ident)["name"] == "Has its own id"
