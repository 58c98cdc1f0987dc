"""Retrieval quality of ``Database.search`` with the built-in local model, on a labelled fixture.

``fixtures/passages.json`` holds ~200 short factual passages over ~20 distinct topics and ~35 user-style
queries, each labelled with the passage ids that answer it. Run with ``pytest -s`` to see the measured
figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database

FIXTURE = Path(__file__).parent / "fixtures" / "passages.json"
K = 5
MIN_RECALL = 0.9
MIN_ON_TOPIC = 0.9


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def topic_of(corpus: dict[str, Any]) -> dict[str, str]:
    return {p["id"]: p["topic"] for p in corpus["passages"]}


@pytest.fixture(scope="module")
def search_db(tmp_path_factory: pytest.TempPathFactory, corpus: dict[str, Any]) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("search_quality") / "db")
    try:
        db.insert_batch("resources", [{"uri": p["id"], "content": p["text"], "category": p["topic"]}
                                      for p in corpus["passages"]])
        yield db
    finally:
        db.close()


def _top_uris(db: Database, query: str, hybrid: bool) -> list[str]:
    return [entity["uri"] for entity, _ in db.search(query, schema="resources", top_k=K, hybrid=hybrid)]


def _recall(db: Database, queries: list[dict[str, Any]], hybrid: bool) -> tuple[float, list[str]]:
    """Mean over queries of |relevant ∩ top K| / |relevant|, and a line per query that missed something."""
    total, misses = 0.0, []
    for q in queries:
        relevant = set(q["relevant"])
        top = _top_uris(db, q["query"], hybrid)
        found = relevant & set(top)
        total += len(found) / len(relevant)
        if found != relevant:
            misses.append(f"  {q['query']!r}: missing {sorted(relevant - found)}, got {top}")
    return total / len(queries), misses


def _report(label: str, recall: float, misses: list[str]) -> None:
    print(f"\n{label} recall@{K}: {recall:.3f}")
    for line in misses:
        print(line)


def test_fixture_is_well_formed(corpus: dict[str, Any], topic_of: dict[str, str]) -> None:
    passages, queries = corpus["passages"], corpus["queries"]
    assert len(topic_of) == len(passages), "passage ids must be unique"
    assert len({p["text"] for p in passages}) == len(passages), "passage texts must be unique"
    for q in queries:
        assert 1 <= len(q["relevant"]) <= 3, q
        assert set(q["relevant"]) <= topic_of.keys(), q
        assert len({topic_of[i] for i in q["relevant"]}) == 1, f"relevant passages span topics: {q}"


def test_vector_recall_at_5(search_db: Database, corpus: dict[str, Any]) -> None:
    recall, misses = _recall(search_db, corpus["queries"], hybrid=False)
    _report("vector", recall, misses)
    assert recall >= MIN_RECALL


def test_hybrid_recall_at_5_not_worse_than_vector(search_db: Database, corpus: dict[str, Any]) -> None:
    vector, _ = _recall(search_db, corpus["queries"], hybrid=False)
    hybrid, misses = _recall(search_db, corpus["queries"], hybrid=True)
    _report("hybrid", hybrid, misses)
    print(f"hybrid {hybrid:.3f} vs vector {vector:.3f}")
    assert hybrid >= vector


def test_best_hit_is_on_topic(search_db: Database, corpus: dict[str, Any], topic_of: dict[str, str]) -> None:
    queries = corpus["queries"]
    off_topic = []
    for q in queries:
        want = topic_of[q["relevant"][0]]
        hits = search_db.search(q["query"], schema="resources", top_k=1)
        assert hits, q["query"]
        got = topic_of[hits[0][0]["uri"]]
        if got != want:
            off_topic.append(f"  {q['query']!r}: wanted {want}, best hit {hits[0][0]['uri']} ({got})")
    share = 1 - len(off_topic) / len(queries)
    print(f"\nbest hit on topic: {share:.3f} ({len(queries) - len(off_topic)}/{len(queries)})")
    for line in off_topic:
        print(line)
    assert share >= MIN_ON_TOPIC
