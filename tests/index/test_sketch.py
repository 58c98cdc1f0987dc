"""Searching among a subset of an HNSW index's rows (a filter's rows) through its sketch (index/sketch.py):
bfloat16 copies and centered sign codes. Real hnswlib indexes, checked against numpy's exact answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vector_items import ITEMS, exact, ids, stored, unit

from rem_db import Database
from rem_db.index import sketch as sketch_module
from rem_db.index.hnsw import HnswIndex

DIMS = 200  # not a multiple of 64: the last code word is padded
_MIX = np.random.default_rng(0).standard_normal((16, DIMS))
_OFFSET = 0.5 * np.random.default_rng(1).standard_normal(DIMS)


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors of a few latent dimensions, sharing a common direction (like text embeddings: far from
    centered, with neighbourhoods that mean something)."""
    return unit(rng.standard_normal((n, 16)) @ _MIX + _OFFSET)


def filled(n: int, seed: int = 1) -> tuple[HnswIndex, dict[bytes, np.ndarray]]:
    rng = np.random.default_rng(seed)
    vectors = clustered(rng, n)
    index = HnswIndex(DIMS)
    for start in range(0, n, 700):  # several batches: the center is taken again as the index grows
        index.upsert(ids(n)[start:start + 700], vectors[start:start + 700])
    return index, dict(zip(ids(n), vectors, strict=True))


def recall(found: list[bytes], truth: list[bytes]) -> float:
    return len(set(found) & set(truth)) / len(truth)


def test_a_large_subset_finds_nearly_the_exact_top_k_with_exact_scores() -> None:
    index, state = filled(6000)
    chosen = {i: v for n, (i, v) in enumerate(state.items()) if n % 2 == 0}  # 3,000 rows: Hamming ranking
    subset = index.subset(index.labels_of(chosen))
    queries = clustered(np.random.default_rng(9), 40)
    recalls = []
    for query in queries:
        found = index.search_subset(subset, query, 10)
        assert len(found) == 10 and all(i in chosen for i, _ in found)
        for i, score in found:  # the float32 cosine, not the bfloat16 estimate
            assert score == pytest.approx(float(state[i] @ query), abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        recalls.append(recall([i for i, _ in found], exact(chosen, query, 10)))
    assert np.mean(recalls) >= 0.97


def test_a_subset_of_up_to_2000_rows_is_searched_exactly() -> None:
    index, state = filled(3000, seed=2)
    chosen = {i: v for n, (i, v) in enumerate(state.items()) if n % 3 == 0}  # 1,000 rows
    subset = index.subset(index.labels_of(chosen))
    for query in clustered(np.random.default_rng(4), 30):
        assert [i for i, _ in index.search_subset(subset, query, 10)] == exact(chosen, query, 10)


def test_changes_after_the_subset_was_taken_are_seen() -> None:
    index, state = filled(3000, seed=3)
    chosen = dict(list(state.items())[:2500])
    subset = index.subset(index.labels_of(chosen))
    query = clustered(np.random.default_rng(5), 1)[0]
    best = exact(chosen, query, 3)
    index.remove(best[:1])  # removed: never returned
    moved = ids(1, 7)[0]
    index.upsert([moved], query.reshape(1, -1))  # now the query's own vector: found first
    found = [i for i, _ in index.search_subset(subset, query, 5)]
    assert found[0] == moved and best[0] not in found and best[1] in found


def test_the_sketch_is_rebuilt_from_the_saved_file(tmp_path: Path) -> None:
    index, state = filled(2600, seed=6)
    index.remove(ids(100))
    for gone in ids(100):
        del state[gone]
    late = clustered(np.random.default_rng(7), 30)
    index.upsert(ids(30, 5000), late)  # reuses freed labels
    state.update(zip(ids(30, 5000), late, strict=True))
    index.save(tmp_path / "idx")
    loaded = HnswIndex.load(tmp_path / "idx", DIMS, stored(state))
    assert loaded.sketch.centered_on == len(loaded)
    for query in clustered(np.random.default_rng(8), 10):
        chosen = set(list(loaded.labels)[::2])
        before = index.search_subset(index.subset(index.labels_of(chosen)), query, 10)
        after = loaded.search_subset(loaded.subset(loaded.labels_of(chosen)), query, 10)
        assert [i for i, _ in after] == [i for i, _ in before]


def test_the_center_follows_the_index_while_it_grows() -> None:
    index, _ = filled(700, seed=10)
    assert index.sketch.centered_on == 700
    more = clustered(np.random.default_rng(11), 2100)
    index.upsert(ids(2100, 700), more)
    assert index.sketch.centered_on == 2800  # grown fourfold: taken again over every row
    index.upsert(ids(10, 9000), more[:10])
    assert index.sketch.centered_on == 2800


def test_filtered_searches_through_the_database_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    vectors = clustered(rng, 5000)
    groups = ["a" if n % 10 < 3 else "b" for n in range(5000)]  # 30 %: 1,500 rows of "a"
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        rows = [{"key": f"k{n}", "doc": f"item {n}", "group": g} for n, g in enumerate(groups)]
        written = db.insert_batch("items", rows, vectors=vectors)
        db.wait_idle()
        db.delete(written[0]["id"])  # soft-deleted: never returned
        in_a = {f"k{n}": vectors[n] for n in range(1, 5000) if groups[n] == "a"}
        for query in clustered(np.random.default_rng(13), 8):
            for _ in range(4):  # probed first, then the filter's rows are read and reused
                hits = db.search(vector=query, schema="items", where="group = 'a'", top_k=10)
            assert [h["key"] for h, _ in hits] == exact(in_a, query, 10)


def test_larger_subsets_are_narrowed_by_hamming_distance_first(monkeypatch: pytest.MonkeyPatch) -> None:
    index, state = filled(1200, seed=14)
    monkeypatch.setattr(sketch_module, "EXACT_UP_TO", 100)  # force the Hamming stage on a small subset
    chosen = dict(list(state.items())[:900])
    subset = index.subset(index.labels_of(chosen))
    query = clustered(np.random.default_rng(15), 1)[0]
    found = [i for i, _ in index.search_subset(subset, query, 10)]
    assert recall(found, exact(chosen, query, 10)) >= 0.8 and set(found) <= set(chosen)
