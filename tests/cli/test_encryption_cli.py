"""`rem key-gen`, `rem init --password`, `rem rekey` and the password on every other command (SPEC §10, §13),
through the real executable."""

from __future__ import annotations

import json

from cli_helpers import PRODUCTS_SCHEMA, Rem


def test_an_encrypted_database_from_the_command_line(rem: Rem, tmp_path) -> None:
    made = rem.ok("key-gen", "--password", "pw1")
    assert "made key pair" in made.err
    assert "already exists" in rem.fails("key-gen", "--password", "pw2").err
    init = rem.ok("init", "--password", "pw1")
    assert "initialized encrypted REM database" in init.err
    schema = tmp_path / "products.json"
    schema.write_text(json.dumps(PRODUCTS_SCHEMA))
    rem.ok("--password", "pw1", "schema", "add", str(schema))
    rem.ok("--password", "pw1", "insert", "products", '{"product_code": "PP-1", "price": 3}')
    rows = rem.ok("--format", "json", "query", "SELECT product_code FROM products",
                  env={"P8_PASSWORD": "pw1"}).json()
    assert rows == [{"product_code": "PP-1"}]

    assert "is encrypted: open it with its password" in rem.fails("count", "products").err
    assert "wrong password" in rem.fails("--password", "nope", "count", "products").err

    exported = rem.ok("--password", "pw1", "export", "products", "-o", str(tmp_path / "p.jsonl"))
    assert "the export is not" in exported.err and "PP-1" in (tmp_path / "p.jsonl").read_text()

    rem.ok("rekey", "--password", "pw1", "--new-password", "pw2")
    assert "wrong password" in rem.fails("--password", "pw1", "count", "products").err
    assert rem.ok("--password", "pw2", "count", "products").out.strip() == "1"


def test_password_errors_on_the_command_line(rem: Rem) -> None:
    rem.ok("init")
    assert "is not encrypted" in rem.fails("--password", "pw", "count", "resources").err
    assert "needs --new-password" in rem.fails("rekey", "--password", "pw").err
    assert "needs --password" in rem.fails("key-gen").err
    assert "no key pair" in rem.fails("rekey", "--password", "a", "--new-password", "b").err
