"""The schema facts `rem schema show` and `rem search` print, through the library: ``schema_fields``,
``schema_template`` and ``embedded_text``."""

from __future__ import annotations

import pytest

from rem_db import Database, NotFoundError


def test_schema_fields_in_schema_order_with_types_and_flags(db: Database, products: str) -> None:
    fields = {f["field"]: f for f in db.schema_fields(products)}
    assert list(fields) == ["product_code", "name", "price", "stock", "category", "tags", "released_at", "notes"]
    assert fields["product_code"] == {"field": "product_code", "type": "string", "required": True, "default": None,
                                      "flags": ["key"]}
    assert fields["category"] == {"field": "category", "type": "string | null", "required": False, "default": None,
                                  "flags": ["indexed"]}
    assert fields["stock"]["default"] == 0 and fields["stock"]["type"] == "integer"
    assert fields["tags"]["type"] == "array<string>"
    assert fields["released_at"]["type"] == "string(date-time) | null"


def test_builtin_resources_fields_say_what_is_embedded(db: Database) -> None:
    fields = {f["field"]: f for f in db.schema_fields("resources")}
    assert "embedded" in fields["content"]["flags"] and "key" in fields["uri"]["flags"]
    with pytest.raises(NotFoundError):
        db.schema_fields("nope")


def test_schema_template_is_not_registered(db: Database) -> None:
    schema = Database.schema_template("resources", "notes")
    assert schema["title"] == "notes" and "content" in schema["properties"]
    assert "notes" not in [s["short_name"] for s in db.list_schemas()]
    registered = db.register_schema(schema)
    assert registered["short_name"] == "notes"
    assert registered["embedding_fields"] == db.get_schema("resources")["embedding_fields"]


def test_embedded_text_is_what_search_ranks(db: Database, products: str) -> None:
    resource = {"entity_type": "resources", "uri": "notes://1", "content": "Ferns like shade."}
    assert db.embedded_text(resource) == "Ferns like shade."
    assert db.embedded_text({"entity_type": products, "product_code": "P", "name": "x", "price": 1}) == ""
