"""The HNSW wrapper: recall against exact search, stable labels, growth, persistence and corruption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vector_items import stored

from rem_db.index.hnsw import CorruptIndex, HnswIndex


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, dims: int = 384, clusters: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random normalised vectors around random centres (sentence embeddings are clustered like this;
    uniformly random 384-d vectors have no meaningful nearest neighbours: all are almost equally far)."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, dims)))
    data = unit(centres[rng.integers(0, clusters, n)] + 0.06 * rng.standard_normal((n, dims)))
    queries = unit(centres[rng.integers(0, clusters, 200)] + 0.06 * rng.standard_normal((200, dims)))
    return data, queries


def ids_for(n: int, offset: int = 0) -> list[bytes]:
    return [(i + offset).to_bytes(16, "big") for i in range(n)]


@pytest.fixture(scope="module")
def built() -> tuple[HnswIndex, np.ndarray, np.ndarray]:
    data, queries = clustered(20_000)
    index = HnswIndex(384)  # starts small: capacity grows by itself
    for start in range(0, len(data), 5_000):
        index.upsert(ids_for(5_000, start), data[start:start + 5_000])
    return index, data, queries


def test_recall_at_10_against_exact_search(built: tuple[HnswIndex, np.ndarray, np.ndarray]) -> None:
    index, data, queries = built
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    recalls = []
    for query, exact in zip(queries, truth, strict=True):
        found = {int.from_bytes(i, "big") for i, _ in index.search(query, 10)}
        recalls.append(len(found & set(exact.tolist())) / 10)
    assert np.mean(recalls) >= 0.95, np.mean(recalls)
    assert len(index) == 20_000 and index.index.get_max_elements() >= 20_000


def test_scores_are_cosine_similarity(built: tuple[HnswIndex, np.ndarray, np.ndarray]) -> None:
    index, data, _ = built
    (best, score), *_ = index.search(data[123], 3)
    assert best == ids_for(1, 123)[0] and score == pytest.approx(1.0, abs=1e-5)


def test_update_replaces_in_place_and_remove_frees_labels() -> None:
    data, _ = clustered(50, dims=16, clusters=5)
    index = HnswIndex(16)
    ids = ids_for(50)
    index.upsert(ids, data)
    index.upsert([ids[0]], data[[49]])  # id 0 now has id 49's vector
    assert {i for i, _ in index.search(data[49], 2)} == {ids[0], ids[49]}
    assert len(index) == 50
    index.remove(ids[:10])
    assert len(index) == 40
    assert all(i not in ids[:10] for i, _ in index.search(data[3], 40))
    index.upsert(ids_for(5, 100), data[:5])  # reuses freed labels
    assert len(index.ids) == 50 and len(index) == 45


def test_filter_and_exhaustive_fallback() -> None:
    data, _ = clustered(300, dims=16, clusters=3)
    index = HnswIndex(16)
    index.upsert(ids_for(300), data)
    allowed = {index.label_of(i) for i in ids_for(5, 200)}
    hits = index.search(data[0], 10, allowed=allowed.__contains__)
    assert {i for i, _ in hits} == set(ids_for(5, 200))  # fewer pass the filter than asked for


def test_exact_vectors_are_read_from_the_store_and_from_the_graph_where_it_has_none() -> None:
    data, queries = clustered(300, dims=32, clusters=20, seed=3)
    index = HnswIndex(32)
    index.upsert(ids_for(300), data)
    before = [index.search_subset(index.subset(set(range(0, 300, 3))), q, 5) for q in queries[:5]]
    stored = {i: v * 3.0 for i, v in zip(ids_for(300), data, strict=True)}  # a provider's vectors: not unit
    del stored[ids_for(300)[9]]  # deleted from the store since the graph took it
    reads: list[int] = []

    def reader(ids: list[bytes]) -> list[np.ndarray | None]:
        reads.append(len(ids))
        return [stored.get(i) for i in ids]

    index.stored = reader
    np.testing.assert_allclose(index.vectors(ids_for(12)), data[:12], atol=1e-6)  # k9 from the graph
    assert reads == [12]
    after = [index.search_subset(index.subset(set(range(0, 300, 3))), q, 5) for q in queries[:5]]
    assert [[i for i, _ in hits] for hits in after] == [[i for i, _ in hits] for hits in before]
    for hits_after, hits_before in zip(after, before, strict=True):
        np.testing.assert_allclose([s for _, s in hits_after], [s for _, s in hits_before], atol=1e-5)
    assert len(reads) == 6  # each subset search read its rows from the store once


def test_save_load_round_trip_and_corruption(tmp_path: Path) -> None:
    data, _ = clustered(500, dims=32, clusters=10)
    index = HnswIndex(32)
    index.upsert(ids_for(500), data)
    index.remove(ids_for(3))
    read = stored(dict(zip(ids_for(500)[3:], data[3:], strict=True)))  # the store no longer holds removed rows
    index.seq = 77
    base = tmp_path / "idx"
    index.save(base)
    loaded = HnswIndex.load(base, 32, read)
    assert len(loaded) == 497 and loaded.seq == 77
    assert loaded.search(data[250], 1)[0][0] == ids_for(1, 250)[0]
    assert ids_for(1)[0] not in {i for i, _ in loaded.search(data[0], 10)}
    with pytest.raises(CorruptIndex, match="dimension"):
        HnswIndex.load(base, 64, read)
    Path(str(base) + ".graph").write_bytes(b"not an index")
    with pytest.raises(CorruptIndex):
        HnswIndex.load(base, 32, read)
    Path(str(base) + ".json").unlink()
    with pytest.raises(CorruptIndex):
        HnswIndex.load(base, 32, read)
