"""Filtered vector search over candidate sets larger than the exact-search limit (search/engine.py): a wide
unfiltered search kept to the candidates, or a filter callback when that search would be too wide (forced here
by a zero ``POST_FILTER_MAX``); checked against numpy's exact answers on a real database in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rem_db import Database
from rem_db.search import engine

DIMS = 24
N = 7_500


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("widest", [engine.POST_FILTER_MAX, 0], ids=["wide-search", "filter-callback"])
def test_filtered_search_matches_exact_answers_and_skips_deleted(tmp_path: Path, widest: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "POST_FILTER_MAX", widest)
    rng = np.random.default_rng(3)
    centres = unit(rng.standard_normal((30, DIMS)))
    data = unit(centres[rng.integers(0, 30, N)] + 0.2 * rng.standard_normal((N, DIMS)))
    probes = unit(centres[rng.integers(0, 30, 20)] + 0.2 * rng.standard_normal((20, DIMS)))
    groups = [("a", "b", "c")[i % 3] for i in range(N)]
    assert groups.count("a") > engine.EXACT_LIMIT  # not the exact path
    with Database(tmp_path / "db") as db:
        db.register_schema({"title": "items", "type": "object", "description": "Items with given vectors.",
                            "properties": {"key": {"type": "string"}, "doc": {"type": "string"},
                                           "group": {"type": "string"}},
                            "key_field": "key", "indexed_fields": ["group"], "embedding_fields": ["doc"]})
        written = db.insert_batch("items", [{"key": f"k{i}", "doc": f"item {i}", "group": g}
                                            for i, g in enumerate(groups)], vectors=data)
        ids = [row["id"] for row in written]
        deleted: set[int] = set()
        for group in ("a", "b"):
            members = np.array([i for i, g in enumerate(groups) if g == group])
            found = 0
            for probe in probes:
                hits = db.search(vector=probe, schema="items", top_k=10, where=f"group = '{group}'")
                assert len(hits) == 10 and all(e["group"] == group for e, _ in hits)
                live = np.array([i for i in members if i not in deleted])
                truth = {f"k{live[n]}" for n in np.argsort(-(data[live] @ probe))[:10]}
                found += len(truth & {e["key"] for e, _ in hits})
            assert found / (10 * len(probes)) >= 0.9, group
            # soft-deleting a group's nearest rows takes them out of its next answers
            nearest = db.search(vector=probes[0], schema="items", top_k=3, where=f"group = '{group}'")
            for entity, _ in nearest:
                db.delete(entity["id"])
                deleted.add(ids.index(entity["id"]))
            again = db.search(vector=probes[0], schema="items", top_k=10, where=f"group = '{group}'")
            gone = {e["id"] for e, _ in nearest}
            assert len(again) == 10 and not gone & {e["id"] for e, _ in again}
