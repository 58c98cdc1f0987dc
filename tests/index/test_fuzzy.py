"""Fuzzy key lookup (SPEC §4): ``lookup(key, fuzzy=True, limit=10)`` -> ``[(entity, score)]`` over every key
value of every table, tolerant of typos, case and word order; exact matches first with 1.0."""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
from pathlib import Path

import pytest

from core_helpers import PRODUCTS, id16, product
from rem_db import AsyncDatabase, Database, ValidationError
from rem_db.index import fuzzy
from rem_db.index.fuzzy import MIN_SCORE, NOT_EXACT_CAP

DISTRACTORS = ["Ficus Lyrata", "Ficus Elastica", "Pilea Peperomioides", "Calathea Orbifolia", "Hoya Carnosa",
               "Sansevieria Trifasciata", "Strelitzia Nicolai", "Alocasia Amazonica", "Philodendron Hederaceum"]


def names(hits: list[tuple[dict, float]]) -> list[str]:
    return [entity["name"] for entity, _ in hits]


@pytest.fixture
def plants(db: Database, products: str) -> dict[str, dict]:
    rows = db.insert_batch(products, [product(f"PL-{n}", name=name) for n, name in
                                      enumerate(["Monstera Deliciosa", *DISTRACTORS])])
    return {row["name"]: row for row in rows}


def test_typos_case_and_word_order_find_the_entity(db: Database, plants: dict[str, dict]) -> None:
    monstera = plants["Monstera Deliciosa"]
    for query in ("Monstra Delicosa", "monstera deliciosa", "MONSTERA DELICIOSA", "Deliciosa Monstera",
                  "deliciosa, monstra"):
        hits = db.lookup(query, fuzzy=True)
        assert hits, query
        entity, score = hits[0]
        assert entity == monstera, query
        assert MIN_SCORE <= score <= NOT_EXACT_CAP, (query, score)
        assert all(s <= score for _, s in hits)
    assert db.lookup("monstera deliciosa", fuzzy=True)[0][1] == NOT_EXACT_CAP  # only the case differs
    assert db.lookup("Monstera Deliciosa") == [monstera]  # the exact lookup is unchanged
    assert db.lookup("monstera deliciosa") == []


def test_exact_matches_come_first_with_score_one(db: Database, products: str, notes: str) -> None:
    close = db.insert(products, product("EX-1", name="Monstera Deliciosa Albo"))
    cased = db.insert(notes, {"name": "monstera deliciosa"})
    exact = [db.insert(products, product("EX-2", name="Monstera Deliciosa")),
             db.insert("moments", {"name": "Monstera Deliciosa", "summary": "repotted"})]
    hits = db.lookup("Monstera Deliciosa", fuzzy=True)
    assert {e["id"] for e, _ in hits[:2]} == {e["id"] for e in exact}
    assert [s for _, s in hits[:2]] == [1.0, 1.0]
    assert [e["id"] for e, _ in hits[2:]] == [cased["id"], close["id"]]
    assert all(s < 1.0 for _, s in hits[2:])
    assert hits[2][1] > hits[3][1]


def test_every_key_value_of_every_table_is_matched(db: Database, products: str, notes: str) -> None:
    res = db.insert("resources", {"uri": "https://docs.example.org/gardening-guide", "content": "x",
                                  "name": "Gardening Guide"})
    prod = db.insert(products, product("SKU-TERRACOTTA-30", name="Terracotta Planter 30 cm"))
    note = db.insert(notes, {"key": "watering-schedule-summer"})
    moment = db.insert("moments", {"name": "Repotted the Fiddle Leaf Fig", "summary": "done"})
    assert db.lookup("gardning guide", fuzzy=True)[0][0]["id"] == res["id"]
    assert db.lookup("docs.example.org/gardening-guid", fuzzy=True)[0][0]["id"] == res["id"]  # the uri
    assert db.lookup("sku terracota 30", fuzzy=True)[0][0]["id"] == prod["id"]  # the key field
    assert db.lookup("terracota planter 30cm", fuzzy=True)[0][0]["id"] == prod["id"]  # its name
    assert db.lookup("summer watering schedule", fuzzy=True)[0][0]["id"] == note["id"]  # key, words reordered
    assert db.lookup("repoted the fidle leaf fig", fuzzy=True)[0][0]["id"] == moment["id"]


def test_one_result_per_entity_with_its_best_key(db: Database, notes: str) -> None:
    row = db.insert(notes, {"key": "ficus-lyrata", "name": "Ficus Lyrata", "uri": "plants://ficus/lyrata"})
    hits = db.lookup("Ficus Lyrata", fuzzy=True)
    assert [(e["id"], s) for e, s in hits] == [(row["id"], 1.0)]
    hits = db.lookup("ficus lyrat", fuzzy=True)
    assert [e["id"] for e, _ in hits] == [row["id"]]


def test_nonsense_returns_nothing(db: Database, plants: dict[str, dict]) -> None:
    for query in ("qwxzjv", "zzzz", "8f3k2", "xylophone quartet", "!!!", "🦀"):
        assert db.lookup(query, fuzzy=True) == [], query


def test_limit_caps_results_best_first(db: Database, products: str) -> None:
    db.insert_batch(products, [product(f"LM-{n}", name=f"Monstera Deliciosa {n:02d}") for n in range(30)])
    hits = db.lookup("Monstera Deliciosa 07", fuzzy=True, limit=5)
    assert len(hits) == 5
    assert hits[0] == (db.lookup("Monstera Deliciosa 07")[0], 1.0)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len(db.lookup("Monstera Deliciosa", fuzzy=True)) == 10  # the default
    assert len(db.lookup("Monstera Deliciosa", fuzzy=True, limit=100)) == 30


@pytest.mark.parametrize(("key", "limit", "message"), [
    ("", 10, "needs a key with at least one character"),
    ("   ", 10, "needs a key with at least one character"),
    ("Monstera", 0, "limit must be a whole number from 1 to 10,000, got 0"),
    ("Monstera", 10_001, "limit must be a whole number from 1 to 10,000"),
    ("Monstera", True, "limit must be a whole number"),
    ("Monstera", "5", "limit must be a whole number"),
    (None, 10, "a lookup key is a string, not NoneType"),
    ("bad \udc80 key", 10, r"not valid text: lone surrogate U\+DC80"),
])
def test_bad_input_is_a_validation_error(db: Database, plants: dict[str, dict], key: object, limit: object,
                                          message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        db.lookup(key, fuzzy=True, limit=limit)  # type: ignore[arg-type]


def test_deleted_and_hidden_rows_never_appear(db: Database, plants: dict[str, dict]) -> None:
    db.lookup("warm up the index", fuzzy=True)
    monstera, ficus = plants["Monstera Deliciosa"], plants["Ficus Lyrata"]
    db.delete(monstera["id"])  # soft
    assert "Monstera Deliciosa" not in names(db.lookup("Monstra Delicosa", fuzzy=True))
    assert db.lookup("Monstra Delicosa", fuzzy=True, include_deleted=True)[0][0]["id"] == monstera["id"]
    db.delete(ficus["id"], hard=True)
    assert "Ficus Lyrata" not in names(db.lookup("Ficus Lyrata", fuzzy=True, include_deleted=True))
    hoya = plants["Hoya Carnosa"]
    db._engine.hidden.hide("products", [id16(hoya)])  # as an unfinished ingest leaves its rows
    assert db.lookup("Hoya Carnosa", fuzzy=True, include_deleted=True) == []
    db._engine.hidden.show("products", [id16(hoya)])
    assert db.lookup("Hoya Carnosa", fuzzy=True)[0][0]["id"] == hoya["id"]


def test_writes_after_the_first_lookup_are_seen_without_a_rebuild(db: Database, plants: dict[str, dict]) -> None:
    assert db.lookup("Ficus Lyrata", fuzzy=True)[0][1] == 1.0
    builds = db._engine.fuzzy.builds
    ficus = plants["Ficus Lyrata"]
    db.update(ficus["id"], {"name": "Fiddle Leaf Fig"})
    assert db.lookup("fidle leaf fig", fuzzy=True)[0][0]["id"] == ficus["id"]
    assert ficus["id"] not in {e["id"] for e, _ in db.lookup("Ficus Lyrata", fuzzy=True)}
    assert db.lookup("PL-1", fuzzy=True)[0][0]["id"] == ficus["id"]  # its other key value is unchanged
    new = db.insert("products", product("NEW-1", name="Zamioculcas Zamiifolia"))
    assert db.lookup("zamioculcas zamifolia", fuzzy=True)[0][0]["id"] == new["id"]
    db.delete(new["id"], hard=True)
    assert db.lookup("zamioculcas zamifolia", fuzzy=True) == []
    assert db._engine.fuzzy.builds == builds  # caught up from the WAL


def test_many_writes_and_the_wal_off_fall_back_to_a_rebuild(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(PRODUCTS))
        db.insert("products", product("W-0", name="Alocasia Amazonica"))
        db.lookup("alocasia", fuzzy=True)
        for n in range(fuzzy.MAX_REPLAY + 5):  # more records than a catch-up reads
            db.insert("products", product(f"W-{n + 1}", name=f"Begonia Maculata {n}"))
        assert names(db.lookup("begonia maculta 68", fuzzy=True, limit=1)) == ["Begonia Maculata 68"]
        assert names(db.lookup("begonia maculta 0", fuzzy=True, limit=1)) == ["Begonia Maculata 0"]
        assert db._engine.fuzzy.builds == 2
    monkeypatch.setenv("P8_WAL_ENABLED", "false")
    with Database(db_path) as db:
        assert db.lookup("alocasia amazonika", fuzzy=True)[0][0]["name"] == "Alocasia Amazonica"
        row = db.insert("products", product("W-X", name="Aglaonema Commutatum"))
        assert db.lookup("aglaonema comutatum", fuzzy=True)[0][0]["id"] == row["id"]
        db.update(row["id"], {"name": "Chinese Evergreen"})
        assert db.lookup("aglaonema comutatum", fuzzy=True) == []
        assert db._engine.fuzzy.builds == 3


def test_read_only_opens_match_in_this_and_another_process(db_path: Path, plants: dict[str, dict],
                                                            db: Database) -> None:
    monstera = plants["Monstera Deliciosa"]
    with Database(db_path, read_only=True) as reader:
        assert reader.lookup("Deliciosa Monstra", fuzzy=True)[0][0]["id"] == monstera["id"]
    script = ("import sys; from rem_db import Database\n"
              "with Database(sys.argv[1], read_only=True) as db:\n"
              "    hits = db.lookup('monstera delicosa', fuzzy=True, limit=3)\n"
              "    print(hits[0][0]['id'], hits[0][1], len(hits))\n")
    done = subprocess.run([sys.executable, "-c", script, str(db_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found, score, count = done.stdout.split()
    assert found == monstera["id"] and MIN_SCORE <= float(score) < 1.0 and int(count) <= 3


def test_tenants_do_not_see_each_other(db_path: Path) -> None:
    with Database(db_path, tenant_id="alpha") as a:
        a.insert("moments", {"name": "Monstera Deliciosa", "summary": "alpha's"})
    with Database(db_path, tenant_id="beta") as b:
        b.insert("moments", {"name": "Monstera Obliqua", "summary": "beta's"})
        assert names(b.lookup("monstera deliciosa", fuzzy=True)) == []
        assert names(b.lookup("monstera obliqa", fuzzy=True)) == ["Monstera Obliqua"]


def test_encrypted_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    path = tmp_path / "db"
    with Database(path, password="open sesame") as db:
        db.register_schema(copy.deepcopy(PRODUCTS))
        row = db.insert("products", product("ENC-1", name="Monstera Deliciosa"))
        assert db.lookup("Monstra Delicosa", fuzzy=True)[0][0]["id"] == row["id"]
        db.update(row["id"], {"name": "Swiss Cheese Plant"})  # caught up through the encrypted WAL
        assert db.lookup("swiss chese plant", fuzzy=True)[0][0]["id"] == row["id"]
        assert db.lookup("Monstra Delicosa", fuzzy=True) == []
    with Database(path, password="open sesame", read_only=True) as db:
        assert db.lookup("plant swiss cheese", fuzzy=True)[0] == (db.get(row["id"]), NOT_EXACT_CAP)


def test_async_database(db_path: Path) -> None:
    async def run() -> list[tuple[dict, float]]:
        async with AsyncDatabase(db_path) as db:
            await db.insert("moments", {"name": "Calathea Orbifolia", "summary": "new leaf"})
            return await db.lookup("calathea orbifolia", fuzzy=True, limit=1)

    hits = asyncio.run(run())
    assert names(hits) == ["Calathea Orbifolia"] and hits[0][1] == NOT_EXACT_CAP
