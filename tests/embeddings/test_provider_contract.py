"""The embedding provider contract, run against every registered backend (SPEC §6).

Each registered prefix needs a harness below that makes its provider work on this machine (the local model
as installed; ``openai:`` against the fake OpenAI-compatible server on 127.0.0.1). A prefix registered
without one fails here, so a new backend cannot skip the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import pytest
from fake_openai import FakeOpenAI

from rem_db.config import Settings
from rem_db.embeddings import EmbeddingProviders, registered_prefixes
from rem_db.embeddings.interface import EmbeddingProvider
from rem_db.errors import ConfigError, DatabaseError, EmbeddingError

TEXTS = ["How do I water a fern?", "short", "naïve café — 東京 🚀",
         "a much longer sentence about wind turbines, grid storage and the tenants of the harbour building " * 3,
         "x=1; y=2; print(x+y)"]


@dataclass
class Harness:
    """A working provider of one backend, and what the backend promises.

    ``requests``: provider calls the backend has answered so far, where they can be counted (HTTP requests);
    ``same_text``: minimum cosine between a text's vectors from different batches (1.0: bit-identical);
    ``break_it``: makes the backend fail the way a user can make it fail (a bad model or key)."""

    providers: EmbeddingProviders
    spec: str
    dimensions: int
    same_text: float
    requests: Callable[[], int] | None
    break_it: Callable[[], object]

    @property
    def provider(self) -> EmbeddingProvider:
        return self.providers.get(self.spec)

    def assert_same(self, a: np.ndarray, b: np.ndarray) -> None:
        """Rows of ``a`` and ``b`` are the same texts' vectors from different batches."""
        if self.same_text == 1.0:
            assert a.tobytes() == b.tobytes()
        else:
            assert (a * b).sum(axis=1).min() >= self.same_text


@contextmanager
def local(precision: str) -> Iterator[Harness]:
    providers = EmbeddingProviders(Settings.from_env(local_embedding_precision=precision))
    # fp32 is exact up to float summation order inside a padded group; int8 quantises activations per group
    # (tests/embeddings/test_local_provider.py holds the same bounds)
    yield Harness(providers, "local:all-MiniLM-L6-v2", 384, 0.9999 if precision == "fp32" else 0.98, None,
                  lambda: providers.get("local:all-MiniLM-L12-v2"))


@contextmanager
def openai() -> Iterator[Harness]:
    with FakeOpenAI() as server:
        settings = Settings.from_env(openai_api_key=server.api_key, openai_base_url=server.base_url)
        wrong_key = EmbeddingProviders(settings.replace(openai_api_key="not-the-key"))
        yield Harness(EmbeddingProviders(settings), "openai:text-embedding-3-small", 1536, 1.0,
                      lambda: len(server.requests),
                      lambda: wrong_key.get("openai:text-embedding-3-small").embed_batch(["x"]))


HARNESSES: dict[str, list[tuple[str, Callable[[], AbstractContextManager[Harness]]]]] = {
    "local": [("int8", lambda: local("int8")), ("fp32", lambda: local("fp32"))],
    "openai": [("fake-server", openai)],
}


def _cases() -> list[object]:
    cases: list[object] = []
    for prefix in registered_prefixes():
        for variant, make in HARNESSES.get(prefix, [("no-harness", partial(_missing, prefix))]):
            cases.append(pytest.param(make, id=f"{prefix}-{variant}"))
    return cases


def _missing(prefix: str) -> AbstractContextManager[Harness]:
    raise AssertionError(f"embedding provider {prefix!r} is registered but has no contract harness: add one to "
                         f"HARNESSES in {__name__}")


@pytest.fixture(params=_cases())
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with request.param() as made:
        yield made


def test_vectors_are_unit_length_float32_rows_of_the_declared_dimension(harness: Harness) -> None:
    provider = harness.provider
    vectors = provider.embed_batch(TEXTS)
    assert provider.spec == harness.spec and provider.dimensions == harness.dimensions
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), harness.dimensions)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_a_batch_is_one_call_answering_every_text_in_order(harness: Harness) -> None:
    texts = [f"{TEXTS[n % len(TEXTS)]} (variant {n})" for n in range(150)]
    before = harness.requests() if harness.requests else 0
    batch = harness.provider.embed_batch(texts)
    if harness.requests is not None:
        assert harness.requests() == before + 1
    singles = np.vstack([harness.provider.embed_batch([texts[n]]) for n in (0, 1, 77, 149)])
    harness.assert_same(batch[[0, 1, 77, 149]], singles)


def test_the_same_text_gets_the_same_vector_in_any_batch(harness: Harness) -> None:
    provider = harness.provider
    text = "The same text always gets the same vector."
    alone = provider.embed_batch([text])[[0]]
    first = provider.embed_batch([text, *TEXTS])[[0]]
    later = provider.embed_batch([*TEXTS[::-1], "another neighbour", text])[[-1]]
    harness.assert_same(alone, first)
    harness.assert_same(alone, later)
    harness.assert_same(first, later)


def test_an_empty_batch_gives_no_rows_without_a_call(harness: Harness) -> None:
    provider = harness.provider
    before = harness.requests() if harness.requests else 0
    empty = provider.embed_batch([])
    assert empty.shape == (0, provider.dimensions) and empty.dtype == np.float32
    if harness.requests is not None:
        assert harness.requests() == before


def test_failures_are_database_errors(harness: Harness) -> None:
    with pytest.raises((EmbeddingError, ConfigError)) as failed:
        harness.break_it()
    assert isinstance(failed.value, DatabaseError) and str(failed.value)
    prefix = harness.spec.partition(":")[0]
    with pytest.raises(ConfigError, match="provider"):
        harness.providers.get(f"{prefix}:")  # no model
