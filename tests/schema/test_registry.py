"""Registering schemas (SPEC §2): sources, settings placements, versions, built-ins, removal, templates,
reindexing, persistence."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from core_helpers import PRODUCTS, field_index_keys_of, id16, product, schema_copy
from rem_db import Database, SchemaError
from rem_db.schema.templates import template_schema

BUILTINS = {"schemas", "documents", "resources", "moments", "sessions", "messages"}


class Article(BaseModel):
    """Articles written for the blog."""

    model_config = ConfigDict(json_schema_extra={"version": "1.2.0", "indexed_fields": ["author"],
                                                 "key_field": "author", "category": "public"})

    title: str = Field(json_schema_extra={"key_field": True})
    author: str
    year: int = Field(default=2000, json_schema_extra={"indexed": True})


class HTTPRequestLog(BaseModel):
    """Requests."""

    path: str


def user_tables(db: Database) -> set[str]:
    return {s["short_name"] for s in db.list_schemas()} - BUILTINS


# -- sources ---------------------------------------------------------------------------------------
def test_register_from_pydantic_model_class(db: Database) -> None:
    described = db.register_schema(Article)
    assert described["short_name"] == "article"
    assert described["description"] == "Articles written for the blog."
    assert described["version"] == "1.2.0"
    assert described["category"] == "public"
    assert described["key_field"] == "title"  # field level wins over model_config
    assert described["indexed_fields"] == ["author", "year"]
    assert described["fully_qualified_name"] == "public.article"
    row = db.insert("article", {"title": "Python Guide", "author": "Ada"})
    assert row["year"] == 2000
    assert db.lookup("Python Guide")[0]["id"] == row["id"]
    assert db.index.equal(db.schemas.get("article"), "year", 2000) == [id16(row)]


def test_short_name_defaults_to_snake_case_title_and_name_overrides(db: Database) -> None:
    assert db.register_schema(HTTPRequestLog)["short_name"] == "http_request_log"
    assert db.register_schema(HTTPRequestLog, name="requests")["short_name"] == "requests"
    assert {"http_request_log", "requests"} <= user_tables(db)


def test_register_from_dict_json_file_yaml_file_and_import_path(db: Database, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    json_file = tmp_path / "gizmo.json"
    json_file.write_text(json.dumps(schema_copy(PRODUCTS, title="gizmo")))
    assert db.register_schema(json_file)["short_name"] == "gizmo"
    yaml_file = tmp_path / "widget.yaml"
    yaml_file.write_text(yaml.safe_dump(schema_copy(PRODUCTS, title="widget")))
    assert db.register_schema(str(yaml_file))["key_field"] == "product_code"
    yml_file = tmp_path / "doohickey.yml"
    yml_file.write_text(textwrap.dedent("""
        title: doohickey
        description: Hand-written YAML with nested settings.
        type: object
        properties:
          code: {type: string}
          size: {type: integer}
        json_schema_extra:
          key_field: code
          indexed_fields: [size]
    """))
    described = db.register_schema(yml_file)
    assert (described["key_field"], described["indexed_fields"]) == ("code", ["size"])
    module = tmp_path / "my_models_for_rem.py"
    module.write_text(textwrap.dedent('''
        from pydantic import BaseModel

        class Thing(BaseModel):
            """Things imported by dotted path."""
            name: str
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert db.register_schema("my_models_for_rem:Thing")["short_name"] == "thing"
    assert {"products", "gizmo", "widget", "doohickey", "thing"} <= user_tables(db)
    for table, row in (("gizmo", product("Z-1")), ("widget", product("W-1")), ("doohickey", {"code": "D-1"})):
        db.insert(table, row)
        assert db.count(table) == 1


@pytest.mark.parametrize(("name", "content"), [
    ("broken.json", '{"title": "x", "description": '),
    ("list.json", "[1, 2]"),
    ("broken.yaml", "title: [unclosed"),
    ("scalar.yaml", "just a string"),
])
def test_malformed_schema_files_are_schema_errors(db: Database, tmp_path: Path, name: str, content: str) -> None:
    before = user_tables(db)
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SchemaError) as err:
        db.register_schema(path)
    assert name in str(err.value)
    assert user_tables(db) == before


def test_missing_schema_file_is_a_schema_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(SchemaError):
        db.register_schema(tmp_path / "absent.json")


# -- settings placement ----------------------------------------------------------------------------
def _placed(**extra: object) -> dict:
    return {
        "title": "placed",
        "description": "Settings placement test.",
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}},
        **extra,
    }


def test_nested_json_schema_extra_wins_over_top_level(db: Database) -> None:
    raw = _placed(key_field="a", indexed_fields=["a"], version="1.0.0",
                  json_schema_extra={"key_field": "b", "indexed_fields": ["b"], "version": "2.1.0",
                                     "short_name": "nested_name"})
    described = db.register_schema(raw)
    assert described["short_name"] == "nested_name"
    assert (described["key_field"], described["indexed_fields"], described["version"]) == ("b", ["b"], "2.1.0")


def test_field_level_wins_over_nested_and_top_level(db: Database) -> None:
    raw = _placed(key_field="a", indexed_fields=["a", "b"], json_schema_extra={"key_field": "b"})
    raw["properties"]["c"]["key_field"] = True
    raw["properties"]["b"]["indexed"] = False
    raw["properties"]["c"]["indexed"] = True
    described = db.register_schema(raw)
    assert described["key_field"] == "c"
    assert described["indexed_fields"] == ["a", "c"]
    row = db.insert("placed", {"a": "A", "b": "B", "c": "C"})
    assert db.lookup("C")[0]["id"] == row["id"]
    assert db.lookup("B") == []
    schema = db.schemas.get("placed")
    assert db.index.equal(schema, "c", "C") == [id16(row)]
    assert db.index.equal(schema, "b", "B") == []


# -- invalid schemas -------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["id", "entity_type", "created_at", "modified_at", "deleted_at", "edges"])
def test_user_field_named_like_a_system_field_is_refused(db: Database, field: str) -> None:
    raw = _placed()
    raw["properties"][field] = {"type": "string"}
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    assert repr(field) in str(err.value) or field in str(err.value)
    assert "placed" not in user_tables(db)


def test_pydantic_model_with_system_field_is_refused(db: Database) -> None:
    class Bad(BaseModel):
        """Has an id field."""

        id: str
        name: str

    with pytest.raises(SchemaError) as err:
        db.register_schema(Bad)
    assert "'id'" in str(err.value)


@pytest.mark.parametrize("setting", [{"key_field": "missing"}, {"indexed_fields": ["a", "missing"]},
                                     {"embedding_fields": ["missing"]},
                                     {"json_schema_extra": {"key_field": "missing"}}])
def test_settings_naming_a_missing_property_are_refused(db: Database, setting: dict) -> None:
    with pytest.raises(SchemaError) as err:
        db.register_schema(_placed(**setting))
    assert "missing" in str(err.value)
    assert "placed" not in user_tables(db)


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"title": "nodesc", "type": "object", "properties": {}}, "description"),
    (_placed(category="secret"), "category"),
    (_placed(version="1.0"), "version"),
    (_placed(short_name="Not Snake!"), "snake"),
    (_placed(properties={"a": {"type": "no-such-type"}}), "placed"),
    ({"type": "object", "description": "no name at all"}, "short_name"),
    (_placed(properties={"a": {"$ref": "#/$defs/Nope"}}), "Nope"),
])
def test_invalid_schemas_are_refused(db: Database, raw: dict, fragment: str) -> None:
    before = user_tables(db)
    with pytest.raises(SchemaError) as err:
        db.register_schema(raw)
    assert fragment in str(err.value)
    assert user_tables(db) == before


# -- versions --------------------------------------------------------------------------------------
def test_minor_and_patch_bumps_are_accepted_with_history(db: Database, db_path: Path) -> None:
    db.register_schema(schema_copy(PRODUCTS, version="1.0.0"))
    db.register_schema(schema_copy(PRODUCTS, version="1.1.0", description="Products, v1.1."))
    db.register_schema(schema_copy(PRODUCTS, version="1.1.1", description="Products, v1.1.1."))
    described = db.get_schema("products")
    assert described["version"] == "1.1.1"
    assert described["description"] == "Products, v1.1.1."
    assert [h["version"] for h in described["history"]] == ["1.0.0", "1.1.0", "1.1.1"]
    db.close()
    with Database(db_path) as again:
        assert [h["version"] for h in again.get_schema("products")["history"]] == ["1.0.0", "1.1.0", "1.1.1"]


def test_major_bump_is_refused_without_force(db: Database) -> None:
    db.register_schema(schema_copy(PRODUCTS, version="1.3.0"))
    row = db.insert("products", product("V-1"))
    with pytest.raises(SchemaError) as err:
        db.register_schema(schema_copy(PRODUCTS, version="2.0.0", description="Breaking."))
    assert "force" in str(err.value) and "2.0.0" in str(err.value)
    described = db.get_schema("products")
    assert described["version"] == "1.3.0" and len(described["history"]) == 1
    described = db.register_schema(schema_copy(PRODUCTS, version="2.0.0", description="Breaking."), force=True)
    assert described["version"] == "2.0.0"
    assert [h["version"] for h in described["history"]] == ["1.3.0", "2.0.0"]
    assert db.get(row["id"])["product_code"] == "V-1"


def test_downgrade_is_refused_without_force(db: Database) -> None:
    db.register_schema(schema_copy(PRODUCTS, version="1.5.0"))
    with pytest.raises(SchemaError):
        db.register_schema(schema_copy(PRODUCTS, version="1.4.0", description="Older."))
    assert db.get_schema("products")["version"] == "1.5.0"


# -- persistence, built-ins, system --------------------------------------------------------------
def test_schemas_survive_reopen(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema(Article)
        db.register_schema(copy.deepcopy(PRODUCTS))
        settings = {s["short_name"]: s for s in db.list_schemas()}
    with Database(db_path) as db:
        assert {s["short_name"]: s for s in db.list_schemas()} == settings
        assert db.get_schema("article")["json_schema"] == Article.model_json_schema()
        db.insert("article", {"title": "After reopen", "author": "Bo"})


def test_builtin_schemas_on_first_open(db: Database) -> None:
    system = {s["short_name"]: s for s in db.list_schemas(category="system")}
    assert set(system) == BUILTINS
    assert db.count("schemas") == len(BUILTINS)
    expected = {
        "documents": ("uri", set()),
        "resources": ("uri", {"content_type", "category", "document_id"}),
        "moments": ("name", {"start_time", "end_time", "moment_type"}),
        "sessions": ("session_id", set()),
        "messages": ("message_id", {"session_id", "role"}),
    }
    for name, (key_field, indexed) in expected.items():
        assert system[name]["key_field"] == key_field, name
        assert indexed <= set(system[name]["indexed_fields"]), name
    assert system["resources"]["embedding_fields"] == ["name", "content"]
    assert system["moments"]["embedding_fields"] == ["summary"]
    assert system["messages"]["embedding_fields"] == ["content"]
    for name in BUILTINS:
        assert db.get_schema(name)["description"]


def test_builtin_tables_validate_their_fields(db: Database) -> None:
    from rem_db import ValidationError

    db.insert("messages", {"message_id": "m1", "session_id": "s1", "role": "user", "content": "hi"})
    with pytest.raises(ValidationError) as err:
        db.insert("messages", {"message_id": "m2", "session_id": "s1", "role": "robot", "content": "hi"})
    assert "role" in str(err.value)
    with pytest.raises(ValidationError) as err:
        db.insert("moments", {"name": "m", "summary": "s", "moment_type": "party"})
    assert "moment_type" in str(err.value)
    moment = db.insert("moments", {"name": "Sprint", "summary": "s", "start_time": "2024-01-01T09:00:00Z"})
    assert db.lookup("Sprint")[0]["id"] == moment["id"]


def test_registered_schema_is_a_row_of_the_schemas_table(db: Database) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    assert db.count("schemas") == len(BUILTINS) + 1
    [row] = [r for r in db.lookup("products") if r["entity_type"] == "schemas"]
    assert row["json_schema"]["key_field"] == "product_code"
    assert row["category"] == "user"


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_system_schemas_cannot_be_removed(db: Database, name: str) -> None:
    with pytest.raises(SchemaError):
        db.remove_schema(name)
    assert name in {s["short_name"] for s in db.list_schemas()}


def test_remove_user_table_drops_rows_indexes_and_schema(db: Database, db_path: Path) -> None:
    db.register_schema(copy.deepcopy(PRODUCTS))
    rows = db.insert_batch("products", [product(f"R-{n}", category="c") for n in range(30)])
    keeper = db.insert("resources", {"uri": "u://keeper", "content": "links",
                                     "edges": [{"dst": rows[0]["id"], "rel_type": "mentions"}]})
    assert db.remove_schema("products") == 30
    assert "products" not in user_tables(db)
    assert db.count("schemas") == len(BUILTINS)
    assert db.lookup("R-1") == [] and db.lookup("products") == []
    assert db.get_batch([r["id"] for r in rows], include_deleted=True) == [None] * 30
    assert all(field_index_keys_of(db, id16(r)) == [] for r in rows)
    assert db.get(keeper["id"])["edges"] == []
    db.close()
    with Database(db_path) as again:
        assert "products" not in user_tables(again)
        again.register_schema(copy.deepcopy(PRODUCTS))
        assert again.count("products") == 0
        assert again.count("products", include_deleted=True) == 0
        assert again.lookup("R-2") == []


# -- templates -------------------------------------------------------------------------------------
def test_templates_are_listed() -> None:
    assert set(Database.schema_templates()) == {"resources", "entities", "agentlets", "moments"}


@pytest.mark.parametrize("template", ["resources", "entities", "agentlets", "moments"])
def test_template_copies_are_user_tables(db: Database, template: str) -> None:
    raw = template_schema(template, "my_copy")
    assert (raw["short_name"], raw["category"], raw["fully_qualified_name"]) == ("my_copy", "user", "user.my_copy")
    described = db.add_schema_from_template(f"my_{template}", template)
    assert described["short_name"] == f"my_{template}"
    assert described["category"] == "user"
    assert described["fully_qualified_name"] == f"user.my_{template}"
    assert f"my_{template}" in {s["short_name"] for s in db.list_schemas(category="user")}
    # the original is untouched
    if template in BUILTINS:
        assert db.get_schema(template)["category"] == "system"


def test_entities_template_is_usable(db: Database) -> None:
    db.add_schema_from_template("plants", "entities")
    row = db.insert("plants", {"name": "Monstera Deliciosa", "properties": {"light": "indirect"}})
    assert [r["id"] for r in db.lookup("Monstera Deliciosa")] == [row["id"]]
    assert db.remove_schema("plants") == 1


def test_unknown_template_is_a_schema_error(db: Database) -> None:
    with pytest.raises(SchemaError):
        db.add_schema_from_template("x", "no_such_template")


# -- reindexing ------------------------------------------------------------------------------------
def test_changing_indexed_fields_reindexes_existing_rows(db: Database) -> None:
    base = schema_copy(PRODUCTS, indexed_fields=["price"])
    db.register_schema(base)
    rows = db.insert_batch("products", [product(f"IX-{n}", notes="blue" if n % 3 else "red", price=n)
                                        for n in range(12)])
    db.register_schema(schema_copy(base, version="1.1.0", indexed_fields=["notes"]))
    schema = db.schemas.get("products")
    assert sorted(db.index.equal(schema, "notes", "red")) == sorted(id16(r) for r in rows if r["notes"] == "red")
    assert len(db.index.equal(schema, "notes", "blue")) == 8
    assert db.index.equal(schema, "price", 3) == []  # no longer indexed: entries gone
    assert list(db.index.scan(schema, "price")) == []
    # new writes use the new layout
    row = db.insert("products", product("IX-new", notes="red"))
    assert id16(row) in db.index.equal(schema, "notes", "red")


def test_changing_key_field_rebuilds_the_key_index(db: Database) -> None:
    raw = schema_copy(PRODUCTS)
    raw["properties"]["sku"] = {"type": "string"}
    db.register_schema(raw)
    row = db.insert("products", product("CODE-1", sku="SKU-1"))
    db.register_schema(schema_copy(raw, key_field="sku", version="1.1.0"))
    assert [r["id"] for r in db.lookup("SKU-1")] == [row["id"]]
    assert db.lookup("CODE-1") == []
