"""Re-registering a table under the same name and version (issue 18, item 5): the identical schema is a
no-op, a different one is a SchemaError naming the differences unless a new version or force=True."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from core_helpers import PRODUCTS, product, schema_copy
from rem_db import Database, SchemaError


def _history(db: Database) -> list[str]:
    return [h["version"] for h in db.get_schema("products")["history"]]


def _refused(db: Database, raw: dict[str, Any]) -> str:
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    message = str(err.value)
    assert "'products' version 1.0.0 is already registered with a different definition" in message
    assert "force=True" in message
    return message


def test_identical_schema_is_a_noop(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    row = db.insert("products", product("SAME-1"))
    described = db.register_schema(copy.deepcopy(PRODUCTS))
    assert described["version"] == "1.0.0"
    assert _history(db) == ["1.0.0"]
    assert db.get(row["id"])["product_code"] == "SAME-1"


def test_identical_schema_after_reopen_is_a_noop_even_with_tuples(db_path: Path) -> None:
    # An application registers its schemas at every start; the stored copy has lists where the code has tuples.
    raw = schema_copy(PRODUCTS, indexed_fields=("price", "stock"), required=("product_code", "name", "price"))
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(raw))
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(raw))
        assert _history(db) == ["1.0.0"]


def test_added_removed_and_changed_properties_are_named(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    raw = copy.deepcopy(PRODUCTS)
    raw["properties"]["sku"] = {"type": "string"}
    del raw["properties"]["notes"]
    raw["properties"]["stock"] = {"type": "number", "default": 0}
    message = _refused(db, raw)
    assert "properties added: sku" in message
    assert "properties removed: notes" in message
    assert "property 'stock' changed: type 'integer' -> 'number'" in message
    assert db.get_schema("products")["json_schema"]["properties"]["stock"]["type"] == "integer"
    assert _history(db) == ["1.0.0"]


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"key_field": "name"}, "key_field: 'product_code' -> 'name'"),
    ({"indexed_fields": ["price"]}, "indexed_fields: ['category', 'price', 'tags', 'released_at', 'stock'] -> "
                                    "['price']"),
    ({"embedding_fields": ["notes"]}, "embedding_fields: [] -> ['notes']"),
    ({"description": "Other products."}, "description: 'Products for sale, keyed by product code.' -> "
                                         "'Other products.'"),
    ({"required": ["product_code", "price"]}, "no longer required: name"),
    ({"additionalProperties": False}, "additionalProperties: None -> False"),
])
def test_changed_settings_are_named(db: Database, changes: dict[str, Any], fragment: str) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    message = _refused(db, schema_copy(PRODUCTS, **changes))
    assert fragment in message
    assert db.get_schema("products")["key_field"] == "product_code"
    assert db.get_schema("products")["embedding_fields"] == []


def test_settings_moved_to_json_schema_extra_still_count_as_different(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    raw = copy.deepcopy(PRODUCTS)
    raw["json_schema_extra"] = {"key_field": raw.pop("key_field")}
    message = _refused(db, raw)
    assert "json_schema_extra" in message


def test_new_version_is_accepted(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    described = db.register_schema(schema_copy(PRODUCTS, version="1.0.1", key_field="name"))
    assert described["key_field"] == "name"
    assert _history(db) == ["1.0.0", "1.0.1"]


def test_force_replaces_the_same_version(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    row = db.insert("products", product("F-1", notes="kept"))
    described = db.register_schema(schema_copy(PRODUCTS, key_field="name"), force=True)
    assert described["key_field"] == "name" and described["version"] == "1.0.0"
    assert [r["id"] for r in db.lookup(row["name"])] == [row["id"]]
    assert _history(db) == ["1.0.0", "1.0.0"]


def test_pydantic_model_changed_without_a_version_bump_is_refused(db: Database) -> None:
    from pydantic import BaseModel

    class Note(BaseModel):
        """Notes."""

        text: str

    class NoteV2(BaseModel):
        """Notes."""

        text: str
        author: str

    db.register_schema(Note)
    with pytest.raises(SchemaError) as err:
        db.register_schema(NoteV2, name="note")
    assert "properties added: author" in str(err.value)
    assert "required" in str(err.value)


def test_changed_keywords_of_a_property_are_named(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    raw = copy.deepcopy(PRODUCTS)
    raw["properties"]["name"] = {"type": "string", "maxLength": 10}
    assert "property 'name' changed: maxLength differs" in _refused(db, raw)
