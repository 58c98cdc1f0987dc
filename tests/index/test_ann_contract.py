"""The ANN index contract, run against every registered backend (``hnsw``, and the exact numpy backend of
``exact_ann``, which shows the suite holds for any correct implementation)."""

from __future__ import annotations

from pathlib import Path

import exact_ann  # noqa: F401  (registers the "exact" backend)
import numpy as np
import pytest
from vector_items import stored

from rem_db.errors import ConfigError
from rem_db.index.ann import AnnBackend, AnnIndex, CorruptIndex, StoredVectors, ann_backend, registered_ann

DIMS = 32


def unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def ids_for(n: int, offset: int = 0) -> list[bytes]:
    return [(i + offset).to_bytes(16, "big") for i in range(n)]


def number(id16: bytes) -> int:
    return int.from_bytes(id16, "big")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return unit(rng.standard_normal((4000, DIMS))), unit(rng.standard_normal((100, DIMS)))


@pytest.fixture(params=registered_ann())
def backend(request: pytest.FixtureRequest) -> AnnBackend:
    return ann_backend(request.param)


def stored_reader(vectors: np.ndarray, gone: int = 0) -> StoredVectors:
    """The store's vectors of ``ids_for(len(vectors))`` (the first ``gone`` deleted)."""
    return stored(dict(zip(ids_for(len(vectors))[gone:], vectors[gone:], strict=True)))


@pytest.fixture
def filled(backend: AnnBackend, data: tuple[np.ndarray, np.ndarray]) -> AnnIndex:
    index = backend.create(DIMS, 1024)  # smaller than the data: the index grows by itself
    vectors, _ = data
    for start in range(0, len(vectors), 1000):
        index.upsert(ids_for(1000, start), vectors[start:start + 1000])
    return index


def test_recall_at_10_against_exact_search(filled: AnnIndex, data: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, queries = data
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    recalls = []
    for query, exact in zip(queries, truth, strict=True):
        hits = filled.search(query, 10)
        assert len(hits) == 10 and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        recalls.append(len({number(i) for i, _ in hits} & set(exact.tolist())) / 10)
    assert np.mean(recalls) >= 0.9, np.mean(recalls)
    assert len(filled) == 4000


def test_scores_are_cosine_similarity(filled: AnnIndex, data: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, _ = data
    (best, score), *rest = filled.search(vectors[123], 5)
    assert best == ids_for(1, 123)[0] and score == pytest.approx(1.0, abs=1e-5)
    for id16, found in rest:
        assert found == pytest.approx(float(vectors[number(id16)] @ vectors[123]), abs=1e-4)
    np.testing.assert_allclose(filled.vectors(ids_for(2, 10)), vectors[10:12], atol=1e-6)


def test_upsert_replaces_a_vector(filled: AnnIndex, data: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, queries = data
    moved = ids_for(1, 5)[0]
    filled.upsert([moved], queries[[0]])
    (best, score), *_ = filled.search(queries[0], 3)
    assert best == moved and score == pytest.approx(1.0, abs=1e-5)
    assert moved not in [i for i, _ in filled.search(vectors[5], 3)]
    assert len(filled) == 4000 and filled.label_of(moved) is not None


def test_remove_hides_an_id(filled: AnnIndex, data: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, _ = data
    gone = ids_for(10, 200)
    filled.remove(gone)
    filled.remove(ids_for(1, 99_999))  # unknown: ignored
    assert len(filled) == 3990
    assert all(filled.label_of(i) is None for i in gone) and filled.labels_of(gone) == set()
    for n in range(200, 210):
        assert not set(gone) & {i for i, _ in filled.search(vectors[n], 20)}
    filled.upsert(gone[:2], vectors[200:202])  # back again
    assert filled.search(vectors[200], 1)[0][0] == gone[0] and len(filled) == 3992


def test_filtered_search_returns_only_allowed_ids(filled: AnnIndex, data: tuple[np.ndarray, np.ndarray]) -> None:
    _, queries = data
    allowed_ids = set(ids_for(400, 1000))
    labels = filled.labels_of(allowed_ids)
    assert len(labels) == 400
    for query in queries[:20]:
        hits = filled.search(query, 10, allowed=labels.__contains__)
        assert len(hits) == 10 and {i for i, _ in hits} <= allowed_ids
    few = set(ids_for(3, 3000))
    hits = filled.search(queries[0], 10, allowed=filled.labels_of(few).__contains__)
    assert {i for i, _ in hits} == few  # fewer pass the filter than asked for: all of them


def test_save_and_load_round_trip(backend: AnnBackend, filled: AnnIndex, tmp_path: Path,
                                  data: tuple[np.ndarray, np.ndarray]) -> None:
    _, queries = data
    filled.remove(ids_for(5))
    filled.seq = 42
    base = tmp_path / "idx"
    assert not backend.exists(base)
    filled.save(base)
    assert backend.exists(base)
    loaded = backend.load(base, DIMS, stored_reader(data[0], gone=5))
    assert len(loaded) == len(filled) == 3995 and loaded.seq == 42 and loaded.dimensions == DIMS
    for query in queries[:20]:  # the same answers (scores to float32 rounding: vectors are normalised again)
        before, after = filled.search(query, 10), loaded.search(query, 10)
        assert [i for i, _ in after] == [i for i, _ in before]
        np.testing.assert_allclose([s for _, s in after], [s for _, s in before], atol=1e-6)
    loaded.upsert(ids_for(1, 4000), queries[[1]])  # a loaded index keeps working
    assert loaded.search(queries[1], 1)[0][0] == ids_for(1, 4000)[0]
    backend.delete(base)
    assert not backend.exists(base) and not list(tmp_path.iterdir())


def test_damaged_files_are_a_corrupt_index(backend: AnnBackend, filled: AnnIndex, tmp_path: Path,
                                           data: tuple[np.ndarray, np.ndarray]) -> None:
    base = tmp_path / "idx"
    filled.save(base)
    read = stored_reader(data[0])
    with pytest.raises(CorruptIndex):
        backend.load(base, DIMS * 2, read)  # saved with another dimension
    pristine = {path: path.read_bytes() for path in backend.paths(base)}
    for path, raw in pristine.items():
        for damaged in (raw[:len(raw) // 2], raw[:-5], b"", b"\xff" * 64 + raw[64:]):
            path.write_bytes(damaged)
            with pytest.raises(CorruptIndex):
                backend.load(base, DIMS, read)
        path.unlink()
        with pytest.raises(CorruptIndex):
            backend.load(base, DIMS, read)
        path.write_bytes(raw)
    assert len(backend.load(base, DIMS, read)) == 4000


def test_an_unknown_backend_is_a_config_error_listing_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match=r"'faiss'.*exact, hnsw"):
        ann_backend("faiss")
    assert {"exact", "hnsw"} <= set(registered_ann())
