"""Undeclared fields are stored by default; a schema may refuse them instead (``additional_properties: false``,
or JSON Schema's ``additionalProperties: false``, e.g. from a Pydantic model with ``extra="forbid"``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from rem_db import Database, QueryError, SchemaError, ValidationError

STRICT: dict[str, Any] = {
    "title": "strict",
    "type": "object",
    "description": "Only declared fields.",
    "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
    "key_field": "name",
    "additional_properties": False,
}


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"short_name": "strict",
                                                                 "description": "Only declared fields."})
    name: str
    size: int = 0


@pytest.mark.parametrize("schema", [
    STRICT,
    {**{k: v for k, v in STRICT.items() if k != "additional_properties"}, "additionalProperties": False},
    {**{k: v for k, v in STRICT.items() if k != "additional_properties"},
     "json_schema_extra": {"additional_properties": False}},
    Forbidding,
], ids=["setting", "json-schema", "json_schema_extra", "pydantic-extra-forbid"])
def test_undeclared_fields_are_refused_by_name(db: Database, schema: Any) -> None:
    db.register_schema(copy.deepcopy(schema) if isinstance(schema, dict) else schema)
    assert db.get_schema("strict")["additional_properties"] is False
    with pytest.raises(ValidationError) as info:
        db.insert_batch("strict", [{"name": "a"}, {"name": "b", "colour": "red", "weight": 2}])
    assert str(info.value) == ("strict row 2 (index 1): undeclared fields 'colour', 'weight': table 'strict' does "
                               "not allow additional properties (declared fields: name, size)")
    assert info.value.field == "colour" and db.count("strict") == 0
    row = db.insert("strict", {"name": "a", "size": 1})
    with pytest.raises(ValidationError, match="undeclared field 'colour': table 'strict' does not allow"):
        db.update(row["id"], {"colour": "red"})
    assert db.get(row["id"])["size"] == 1 and "colour" not in db.get(row["id"])
    with pytest.raises(QueryError, match=r"unknown column 'colour' in table 'strict' .*additional_properties: false"):
        db.query("SELECT colour FROM strict")


def test_undeclared_fields_are_kept_by_default(db: Database) -> None:
    db.register_schema({**copy.deepcopy(STRICT), "additional_properties": True})
    db.register_schema({"title": "loose", "description": "No setting.", "properties": {"name": {"type": "string"}}})
    for table in ("strict", "loose"):
        assert db.get_schema(table)["additional_properties"] is True
        row = db.insert(table, {"name": "a", "colour": "red", "meta": {"n": 1}})
        assert db.get(row["id"])["colour"] == "red" and db.get(row["id"])["meta"] == {"n": 1}


@pytest.mark.parametrize(("changes", "message"), [
    ({"additional_properties": "no"}, "additional_properties must be true or false, not str 'no'"),
    ({"additional_properties": True, "additionalProperties": False},
     "additional_properties is true but the JSON Schema sets additionalProperties: false"),
])
def test_bad_settings_are_schema_errors(db: Database, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        db.register_schema({**copy.deepcopy(STRICT), **changes})


def test_changing_the_setting_needs_a_new_version(db: Database) -> None:
    db.register_schema({**copy.deepcopy(STRICT), "additional_properties": True})
    with pytest.raises(SchemaError, match="additional_properties: True -> False"):
        db.register_schema(copy.deepcopy(STRICT))
    db.register_schema({**copy.deepcopy(STRICT), "version": "1.1.0"})
    assert db.get_schema("strict")["additional_properties"] is False
