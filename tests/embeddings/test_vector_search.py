"""Database.search: results, merging across tables, hybrid, persistence of the index, bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from embed_helpers import NOTES

from rem_db import Database, NotFoundError, QueryError

FACTS = [
    ("volcano", "Lava from the volcano flowed down the mountain into the sea."),
    ("baking", "Knead the dough for ten minutes, then let the bread rise for an hour."),
    ("chess", "The knight moves in an L shape and can jump over other pieces."),
    ("bees", "Worker bees collect nectar and turn it into honey in the hive."),
    ("rail", "The high-speed train reached 320 km/h between Paris and Lyon."),
]


@pytest.fixture
def db(tmp_path: Path):
    with Database(tmp_path / "db") as database:
        database.register_schema(NOTES)
        database.insert_batch("notes", [{"key": k, "body": b, "topic": k} for k, b in FACTS])
        yield database


def test_search_ranks_by_meaning_with_cosine_scores(db: Database) -> None:
    hits = db.search("how do trains travel fast", schema="notes", top_k=3)
    assert hits[0][0]["key"] == "rail"
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert set(hits[0][0]) >= {"id", "entity_type", "key", "body", "created_at"}  # flat entity


def test_search_without_schema_spans_tables_with_embeddings(db: Database) -> None:
    db.insert("resources", {"uri": "doc://honey", "content": "Honey is made by bees from flower nectar."})
    hits = db.search("making honey", top_k=2)
    assert {h[0]["entity_type"] for h in hits} == {"notes", "resources"}


def test_hybrid_finds_exact_rare_terms(db: Database) -> None:
    db.insert("notes", {"key": "model", "body": "The XJ-9000 pump needs a new gasket every spring."})
    hybrid = db.search("XJ-9000", schema="notes", top_k=1, hybrid=True)
    assert hybrid[0][0]["key"] == "model"


def test_index_is_saved_and_reloaded_without_rebuild(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [{"key": k, "body": b} for k, b in FACTS])
        db.search("x", schema="notes")
    files = list((tmp_path / "db" / "indexes" / "default").glob("notes__*.graph"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(tmp_path / "db") as db:
        assert db.search("chess pieces", schema="notes", top_k=1)[0][0]["key"] == "chess"
    assert "rebuilding" not in caplog.text
    assert files[0].stat().st_mtime_ns == mtime


def test_corrupt_index_file_is_repaired_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [{"key": k, "body": b} for k, b in FACTS])
    index_file = next((tmp_path / "db" / "indexes" / "default").glob("notes__*.graph"))
    index_file.write_bytes(b"garbage" * 10)
    with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(tmp_path / "db") as db:
        assert db.search("bees and honey", schema="notes", top_k=1)[0][0]["key"] == "bees"
    assert "rebuilding" in caplog.text


def test_missing_index_files_are_rebuilt(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [{"key": k, "body": b} for k, b in FACTS])
    for path in (tmp_path / "db" / "indexes").rglob("*"):
        if path.is_file():
            path.unlink()
    with Database(tmp_path / "db") as db:
        assert db.search("bread dough", schema="notes", top_k=1)[0][0]["key"] == "baking"


def test_bad_input_is_a_clear_error(db: Database) -> None:
    db.register_schema({"title": "plain", "description": "No embeddings.", "type": "object",
                        "properties": {"name": {"type": "string"}}})
    with pytest.raises(QueryError, match="'plain' has no embedding fields"):
        db.search("x", schema="plain")
    with pytest.raises(QueryError, match="non-empty query"):
        db.search("   ", schema="notes")
    for bad in (0, -1, 10_001, 2.5, True):
        with pytest.raises(QueryError, match="top_k"):
            db.search("x", schema="notes", top_k=bad)
    with pytest.raises(NotFoundError, match="unknown table 'nope'"):
        db.search("x", schema="nope")


def test_top_k_larger_than_the_table_returns_every_row(db: Database) -> None:
    assert len(db.search("anything", schema="notes", top_k=10_000)) == len(FACTS)


def test_read_only_handle_searches(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [{"key": k, "body": b} for k, b in FACTS])
    with Database(tmp_path / "db", read_only=True) as db:
        assert db.search("knight move", schema="notes", top_k=1)[0][0]["key"] == "chess"


def test_schemas_table_is_searchable_by_description(db: Database) -> None:
    hits = db.search("message content, roles and tool calls", schema="schemas", top_k=1)
    assert hits[0][0]["name"] == "messages"


def test_where_is_a_pre_filter(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        rows = [{"key": f"b{n}", "body": f"volcano eruption report {n}", "topic": "geo"} for n in range(45)]
        rows += [{"key": f"a{n}", "body": f"bread recipe {n}", "topic": "food"} for n in range(5)]
        db.insert_batch("notes", rows)
        # the nearest rows are all "geo"; the filter still yields every matching row, best first
        hits = db.search("volcano eruption", schema="notes", top_k=5, where="topic = 'food'")
        assert sorted(e["key"] for e, _ in hits) == [f"a{n}" for n in range(5)]
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        unindexed = db.search("volcano", schema="notes", top_k=3, where="key LIKE 'a%' AND body LIKE '%recipe 1%'")
        assert [e["key"] for e, _ in unindexed] == ["a1"]
        bound = db.search("bread", schema="notes", top_k=10, where="topic = ?", params=["food"])
        assert len(bound) == 5
        assert db.search("bread", schema="notes", where="topic = 'none'") == []
