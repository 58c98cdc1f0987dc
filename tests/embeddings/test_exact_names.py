"""Exact names in hybrid search (issue 19 part 3): identifiers joined by ``-``, ``_``, ``.`` match whole and
by their parts, and a query equal to an entity's key value (any case) ranks that entity first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from rem_db import Database
from rem_db.index.text_tokens import tokens


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(tmp_path_factory.mktemp("exact_names") / "db")
    try:
        database.insert_batch("resources", [
            {"uri": "r1", "content": "The XJ-9000 pump failed during the pressure test and was replaced."},
            {"uri": "r2", "content": "The XJ pump and the 9000 series valves failed during the pressure test."},
            {"uri": "r3", "content": "Release notes: the model file atlas_fund.v2 replaces the first version."},
            {"uri": "r4", "content": "The Atlas fund raised a second vintage; the fund manager reported returns."},
        ])
        database.insert_batch("moments", [
            {"name": "Quarterly Planning", "summary": "Budget review with the finance team."},
            {"name": "Offsite", "summary": "Quarterly planning session: quarterly planning goals, quarterly "
                                           "planning owners and the quarterly planning calendar."},
        ])
        yield database
    finally:
        database.close()


def _uris(db: Database, query: str) -> list[str]:
    return [h["uri"] for h, _ in db.search(query, schema="resources", top_k=4, hybrid=True)]


def _bm25_uris(db: Database, query: str) -> list[str]:
    """The lexical half of hybrid search alone (no public API: the engine's own BM25 index)."""
    ranked = db._core.embedder.fulltext.search("resources", query, 4)
    return [db.get(str(uuid.UUID(bytes=i)))["uri"] for i, _ in ranked]


def test_identifiers_are_tokens_whole_and_by_parts() -> None:
    assert {"xj-9000", "xj", "9000"} <= set(tokens("Order XJ-9000 shipped"))
    assert {"atlas_fund.v2", "fund", "v2"} <= set(tokens("see atlas_fund.v2"))
    assert "5.25" in tokens("an exit at a 5.25% cap")
    assert tokens("The end. Next") == ["end", "next"]  # a full stop between words joins nothing


def test_whole_identifier_ranks_its_exact_text_first(db: Database) -> None:
    assert _bm25_uris(db, "XJ-9000")[0] == "r1"
    assert _bm25_uris(db, "atlas_fund.v2")[0] == "r3"
    assert _uris(db, "atlas_fund.v2")[0] == "r3"
    assert "r1" in _uris(db, "XJ-9000")[:2]  # fused with a vector ranking that prefers r2 by a hair


def test_parts_of_an_identifier_still_match(db: Database) -> None:
    assert "r1" in _uris(db, "XJ pump")
    assert "r3" in _uris(db, "atlas fund")


@pytest.mark.parametrize("query", ["quarterly planning", "QUARTERLY PLANNING", "Quarterly-Planning"])
def test_a_key_value_query_ranks_its_entity_first(db: Database, query: str) -> None:
    hits = db.search(query, schema="moments", top_k=2, hybrid=True)
    assert hits[0][0]["name"] == "Quarterly Planning"
    assert db.search(query, schema="moments", top_k=2)[0][0]["name"] == "Offsite"  # vector alone


def test_no_name_match_keeps_the_fused_order(db: Database) -> None:
    hits = db.search("pressure test failures", schema="resources", top_k=4, hybrid=True)
    assert all(score < 1 for _, score in hits)
