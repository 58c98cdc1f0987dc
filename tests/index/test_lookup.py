"""The key index (SPEC §4): lookup and lookup_batch across tables, exact keys of any shape."""

from __future__ import annotations

import random

import pytest

from core_helpers import product
from rem_db import Database

ODD_KEYS = ["a", "a:b", "a:b:c", "https://example.org/x?y=1#z", "file:///tmp/a b/naïve.md", "a/b", "a b", " a",
            "a ", "A", "日本語", "emoji 🦀", "a\x00b", "a\x00", "\x00", "tab\tkey", "x" * 5000, "100", "-1", "true",
            "ключ", "e\u0301", "\u00e9"]


def test_lookup_finds_entities_in_any_table(db: Database, products: str, articles: str) -> None:
    res = db.insert("resources", {"uri": "https://docs.python.org", "content": "docs", "name": "Python Docs"})
    prod = db.insert(products, product("PP-1001-SM", name="Monstera Deliciosa"))
    art = db.insert(articles, {"title": "Python Guide"})
    moment = db.insert("moments", {"name": "Monstera Deliciosa", "summary": "repotted"})
    assert db.lookup("https://docs.python.org") == [res]
    assert db.lookup("Python Docs") == [res]
    assert db.lookup("PP-1001-SM") == [prod]
    assert db.lookup("Python Guide") == [art]
    both = db.lookup("Monstera Deliciosa")
    assert sorted(r["entity_type"] for r in both) == ["moments", "products"]
    assert {r["id"] for r in both} == {prod["id"], moment["id"]}
    assert db.lookup("monstera deliciosa") == []  # exact match only
    assert db.lookup("Monstera") == []
    result = db.lookup_batch(["PP-1001-SM", "Python Guide", "missing", "Monstera Deliciosa"])
    assert list(result) == ["PP-1001-SM", "Python Guide", "missing", "Monstera Deliciosa"]
    assert result["PP-1001-SM"] == [prod] and result["Python Guide"] == [art] and result["missing"] == []
    assert len(result["Monstera Deliciosa"]) == 2


def test_odd_keys_round_trip_without_collisions(db: Database, products: str) -> None:
    rows = db.insert_batch(products, [product(k, name=f"name for {n}") for n, k in enumerate(ODD_KEYS)])
    found = db.lookup_batch(ODD_KEYS)
    for key, row in zip(ODD_KEYS, rows, strict=True):
        assert [r["id"] for r in found[key]] == [row["id"]], repr(key)
        assert found[key][0]["product_code"] == key
    for key, row in zip(ODD_KEYS[:5], rows[:5], strict=True):
        assert [r["id"] for r in db.lookup(key)] == [row["id"]]
    assert db.lookup("a:") == [] and db.lookup("a\x00b\x00") == [] and db.lookup("") == []


def test_seeded_random_unicode_keys(db: Database, products: str) -> None:
    rng = random.Random(20240601)
    alphabet = [chr(c) for c in (*range(0x20, 0x7F), 0x00, 0x01, 0xFF, 0x100, 0x3042, 0x1F980, 0x10FFFF)] + [":", "/"]
    keys = list(dict.fromkeys("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(400)))
    rows = db.insert_batch(products, [product(k) for k in keys])
    found = db.lookup_batch(keys)
    assert all([r["id"] for r in found[k]] == [row["id"]] for k, row in zip(keys, rows, strict=True))


def test_every_key_candidate_is_indexed(db: Database, notes: str) -> None:
    row = db.insert(notes, {"uri": "u://doc", "key": "the-key", "name": "The Name"})
    for key in ("u://doc", "the-key", "The Name"):
        assert [r["id"] for r in db.lookup(key)] == [row["id"]], key


@pytest.mark.parametrize(("value", "rendered"), [(42, "42"), (True, "true"), (1.5, "1.5"), ([1, "a"], '[1,"a"]')])
def test_non_string_keys_are_found_by_their_json_text(db: Database, notes: str, value: object, rendered: str) -> None:
    row = db.insert(notes, {"key": value})
    assert [r["id"] for r in db.lookup(rendered)] == [row["id"]]


def test_lookup_reflects_upserts_and_deletes(db: Database, products: str) -> None:
    row = db.insert(products, product("LK-1", name="First Name"))
    db.insert(products, product("LK-1", name="Second Name"))
    assert db.lookup("First Name") == []
    assert db.lookup("Second Name")[0]["id"] == row["id"]
    db.delete(row["id"], hard=True)
    assert db.lookup_batch(["LK-1", "Second Name"], include_deleted=True) == {"LK-1": [], "Second Name": []}
