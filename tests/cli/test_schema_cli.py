"""`rem init` and `rem schema ...` through the real executable."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml
from cli_helpers import PRODUCTS_SCHEMA, Rem

BUILTINS = {"schemas", "documents", "resources", "moments", "sessions", "messages"}


def test_init_creates_the_database_with_builtin_tables(rem: Rem) -> None:
    result = rem.ok("init")
    assert Path(result.out.strip()) == rem.db_path.resolve()
    assert rem.db_path.is_dir() and "initialized" in result.err
    system = rem.ok("--format", "json", "schema", "list", "--category", "system").json()
    assert {s["short_name"] for s in system} == BUILTINS
    assert rem.ok("init").out == result.out  # idempotent, like opening an existing SQLite file


def test_schema_add_from_json_file_then_list_and_show(rem: Rem, products_file: Path) -> None:
    added = rem.ok("schema", "add", str(products_file))
    assert "products" in added.out and "key field product_code" in added.out

    listed, user_tables, as_json, table = rem.each(
        ("schema", "list"), ("schema", "list", "--category", "user", "-f", "json"),
        ("schema", "show", "products", "--format", "json"), ("schema", "show", "products"), code=0)
    assert "products" in listed.out and "Products for sale" in listed.out and "resources" in listed.out
    assert [s["short_name"] for s in user_tables.json()] == ["products"]
    shown = as_json.json()
    assert shown["key_field"] == "product_code"
    assert shown["indexed_fields"] == ["price"]
    assert shown["json_schema"]["properties"]["price"] == {"type": "number"}
    assert [h["version"] for h in shown["history"]] == ["1.0.0"]
    assert "product_code" in table.out and "key" in table.out and "indexed" in table.out


def test_schema_add_from_yaml_file_with_field_level_settings(rem: Rem, tmp_path: Path) -> None:
    path = tmp_path / "plants.yaml"
    path.write_text(textwrap.dedent("""\
        title: Plants
        description: House plants and how to keep them alive.
        type: object
        properties:
          common_name: {type: string, key_field: true}
          water_every_days: {type: integer, indexed: true}
        required: [common_name]
        """))
    rem.ok("schema", "add", str(path))
    rem.ok("insert", "plants", '{"common_name": "Monstera Deliciosa", "water_every_days": 7}')
    shown, found = rem.each(("-f", "json", "schema", "show", "plants"), ("-f", "json", "lookup", "Monstera Deliciosa"),
                            code=0)
    assert shown.json()["key_field"] == "common_name"
    assert shown.json()["indexed_fields"] == ["water_every_days"]
    assert found.json()[0]["water_every_days"] == 7


def test_schema_add_from_a_pydantic_model_in_the_current_directory(rem: Rem, tmp_path: Path) -> None:
    (tmp_path / "shop_models.py").write_text(textwrap.dedent("""\
        from pydantic import BaseModel, ConfigDict

        class Article(BaseModel):
            model_config = ConfigDict(json_schema_extra={"description": "Blog articles", "key_field": "title"})
            title: str
            body: str = ""
        """))
    rem.ok("schema", "add", "shop_models:Article", "--name", "articles")
    assert rem.ok("-f", "json", "schema", "show", "articles").json()["key_field"] == "title"
    assert "no_such_module" in rem.fails("schema", "add", "no_such_module:Thing").err


def test_schema_templates_lists_the_four_templates(rem: Rem) -> None:
    table, as_json = rem.each(("schema", "templates"), ("schema", "templates", "--format", "json"), code=0)
    rows = as_json.json()
    names = {r["name"] for r in rows}
    assert names == {"resources", "entities", "agentlets", "moments"}
    assert all(r["description"] for r in rows)
    assert all(name in table.out for name in names)


def test_template_with_output_writes_a_file_and_registers_nothing(rem: Rem, tmp_path: Path) -> None:
    out_json, out_yaml = tmp_path / "people.json", tmp_path / "agents.yml"
    _, first, _ = rem.each(("init",), ("schema", "add", "--name", "people", "--template", "entities",
                                       "--output", str(out_json)),
                           ("schema", "add", "--name", "my_agents", "--template", "agentlets", "-o", str(out_yaml)),
                           code=0)
    assert "NOT registered" in first.err

    written = json.loads(out_json.read_text())
    assert written["short_name"] == "people" and written["key_field"] == "name"
    assert written["category"] == "user" and written["fully_qualified_name"] == "user.people"
    assert yaml.safe_load(out_yaml.read_text())["embedding_fields"] == ["description"]
    user_tables = rem.ok("-f", "json", "schema", "list", "--category", "user").json()
    assert user_tables == []

    rem.ok("schema", "add", str(out_json))  # the written file registers as it is
    assert rem.ok("-f", "json", "schema", "show", "people").json()["fully_qualified_name"] == "user.people"


def test_template_without_output_registers_the_copy(rem: Rem) -> None:
    rem.ok("schema", "add", "--name", "people", "--template", "entities")
    shown, no_name = rem.each(("-f", "json", "schema", "show", "people"), ("schema", "add", "--template", "entities"),
                              code=-1)  # concurrent: neither opens the database read-write
    assert shown.json()["category"] == "user" and shown.json()["key_field"] == "name"
    assert no_name.code == 2 and "--name" in no_name.err
    assert "'nope'" in rem.fails("schema", "add", "--name", "x", "--template", "nope").err


def _write_schema(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "products_v.json"
    path.write_text(json.dumps({**PRODUCTS_SCHEMA, **changes}))
    return path


def test_major_version_bump_is_refused_without_force(rem: Rem, tmp_path: Path, products_table: str) -> None:
    v2 = _write_schema(tmp_path, version="2.0.0")
    result = rem.fails("schema", "add", str(v2))
    assert "major version" in result.err and "--force" in result.err
    assert rem.ok("-f", "json", "schema", "show", "products").json()["version"] == "1.0.0"

    rem.ok("schema", "add", str(v2), "--force")
    shown = rem.ok("-f", "json", "schema", "show", "products").json()
    assert shown["version"] == "2.0.0"
    assert [h["version"] for h in shown["history"]] == ["1.0.0", "2.0.0"]


def test_bad_schemas_are_refused_with_a_reason(rem: Rem, tmp_path: Path) -> None:
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps({"title": "clash", "description": "x", "type": "object",
                                 "properties": {"created_at": {"type": "string"}}}))
    assert "system field" in rem.fails("schema", "add", str(clash)).err

    missing_key = _write_schema(tmp_path, key_field="sku")
    assert "'sku'" in rem.fails("schema", "add", str(missing_key)).err

    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "broken",\n "description": }')
    err = rem.fails("schema", "add", str(broken)).err
    assert "line 2" in err and "column" in err

    assert "does not exist" in rem.fails("schema", "add", str(tmp_path / "absent.json")).err
    assert rem.ok("-f", "json", "schema", "list", "--category", "user").json() == []


def test_schema_remove_needs_yes_when_the_table_has_rows(rem: Rem, products_table: str) -> None:
    rem.ok("insert", "products", '{"product_code": "A", "price": 1}')
    result = rem.fails("schema", "remove", "products")
    assert "--yes" in result.err and "1 row" in result.err
    assert rem.count("products") == 1

    assert "1 row" in rem.ok("schema", "remove", "products", "--yes").err
    assert "unknown table" in rem.fails("count", "products").err
    assert "system" in rem.fails("schema", "remove", "resources", "--yes").err

    rem.ok("schema", "add", "--name", "empty_one", "--template", "entities")
    rem.ok("schema", "remove", "empty_one")  # no rows: no --yes needed
