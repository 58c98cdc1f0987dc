"""The offline all-MiniLM-L6-v2 provider against the reference model (vectors committed as a fixture,
computed with sentence-transformers + torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rem_db.embeddings import EmbeddingProviders
from rem_db.embeddings.local import DIMENSIONS, LocalMiniLM

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def fp32() -> LocalMiniLM:
    return LocalMiniLM(precision="fp32")


@pytest.fixture(scope="module")
def int8() -> LocalMiniLM:
    return LocalMiniLM(precision="int8")


def test_exact_path_matches_the_reference_model(fp32: LocalMiniLM) -> None:
    ours = fp32.embed_batch(REFERENCE["sentences"])
    ref = np.array(REFERENCE["vectors"], dtype=np.float32)
    cosines = (ours * ref).sum(axis=1)
    assert ours.shape == (len(REFERENCE["sentences"]), DIMENSIONS)
    assert cosines.min() >= 0.99, dict(zip(REFERENCE["sentences"], cosines.round(4), strict=True))


def test_int8_path_stays_close_to_fp32(fp32: LocalMiniLM, int8: LocalMiniLM) -> None:
    exact = fp32.embed_batch(REFERENCE["sentences"])
    fast = int8.embed_batch(REFERENCE["sentences"])
    assert (exact * fast).sum(axis=1).min() >= 0.98


def test_vectors_are_unit_length_and_order_is_kept(fp32: LocalMiniLM, int8: LocalMiniLM) -> None:
    texts = ["a much longer sentence about wind turbines and the grid " * 3, "short", "medium length text"]
    batch = fp32.embed_batch(texts)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    singles = np.vstack([fp32.embed_batch([t]) for t in texts])
    assert np.array_equal(batch, singles)  # sorting by length inside a batch keeps the order
    quantised = int8.embed_batch(texts)
    assert (quantised * singles).sum(axis=1).min() > 0.98


def test_int8_path_stays_close_on_passages_queries_and_odd_texts(fp32: LocalMiniLM, int8: LocalMiniLM) -> None:
    corpus = json.loads((Path(__file__).parent / "fixtures" / "passages.json").read_text())
    texts = [q["query"] for q in corpus["queries"]] + [p["text"] for p in corpus["passages"][:60]]
    texts += ["", " ", "a", "?", "ok " * 200, "RocksDB " * 40, "naïve café — 東京 🚀", "x=1; y=2; print(x+y)"]
    cosines = (fp32.embed_batch(texts) * int8.embed_batch(texts)).sum(axis=1)
    assert cosines.min() >= 0.98, sorted(zip(cosines.round(4), texts, strict=True))[:5]


def test_large_calls_run_in_groups_and_keep_order(fp32: LocalMiniLM, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["wind", "grid", "lease", "tenant", "solar", "storage", "board", "memo", "fern", "cactus", "light"]
    texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(1 + i % 40)) for i in range(150)]
    grouped = fp32.embed_batch(texts)  # several groups, run on the worker threads
    monkeypatch.setenv("P8_EMBEDDING_THREADS", "1")
    sequential = LocalMiniLM(precision="fp32").embed_batch(texts[::-1])[::-1]  # other groups, one thread
    assert grouped.shape == (150, DIMENSIONS)
    assert np.array_equal(grouped, sequential)


def test_long_text_is_truncated_at_256_tokens(fp32: LocalMiniLM) -> None:
    base = "storage " * 300
    a, b = fp32.embed_batch([base, base + "completely different ending about volcanoes " * 20])
    assert float(a @ b) > 0.9999  # everything past token 256 is ignored, as the reference does


def test_default_provider_is_local_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    provider = EmbeddingProviders.from_env().get(None)
    assert provider.spec == "local:all-MiniLM-L6-v2"
    assert provider.dimensions == 384
    similar = provider.embed_batch(["How do I water a fern?", "Watering ferns: how often?", "Tax law in 1990"])
    assert similar[0] @ similar[1] > similar[0] @ similar[2] + 0.3


def test_unknown_local_model_and_precision_are_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from rem_db import ConfigError

    with pytest.raises(ConfigError, match="not available"):
        LocalMiniLM("bge-large")
    monkeypatch.setenv("P8_LOCAL_EMBEDDING_PRECISION", "fp8")
    with pytest.raises(ConfigError, match="P8_LOCAL_EMBEDDING_PRECISION"):
        LocalMiniLM()
