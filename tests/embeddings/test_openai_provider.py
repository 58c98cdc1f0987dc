"""The ``openai:`` provider against an OpenAI-compatible server started on 127.0.0.1 by the test."""

from __future__ import annotations

import numpy as np
import pytest
from fake_openai import FakeOpenAI, vector_for

from rem_db import EmbeddingError
from rem_db.embeddings.openai import OpenAIProvider


def provider(server: FakeOpenAI, **kwargs: object) -> OpenAIProvider:
    return OpenAIProvider("text-embedding-3-small", api_key=server.api_key, base_url=server.base_url,
                          backoff=0.01, **kwargs)


def test_batch_in_one_request_in_input_order(openai_server: FakeOpenAI) -> None:
    texts = ["alpha", "beta", "gamma"]
    vectors = provider(openai_server).embed_batch(texts)
    assert openai_server.requests == [texts]
    expected = np.array([vector_for(t, 1536) for t in texts], dtype=np.float32)
    assert (vectors * expected).sum(axis=1).min() > 0.9999  # the server answers out of order


def test_retries_on_429_and_5xx_then_succeeds(openai_server: FakeOpenAI) -> None:
    openai_server.fail_with = [429, 503, 500]
    openai_server.retry_after = "0"
    assert provider(openai_server).embed_batch(["x"]).shape == (1, 1536)
    assert len(openai_server.requests) == 1


def test_gives_up_after_retries(openai_server: FakeOpenAI) -> None:
    openai_server.fail_with = [503] * 10
    with pytest.raises(EmbeddingError, match=r"failed after 3 attempts.*HTTP 503"):
        provider(openai_server, retries=2).embed_batch(["x"])


def test_bad_key_is_a_clear_error_without_retry(openai_server: FakeOpenAI) -> None:
    bad = OpenAIProvider("text-embedding-3-small", api_key="wrong", base_url=openai_server.base_url)
    with pytest.raises(EmbeddingError, match=r"authentication failed.*Incorrect API key"):
        bad.embed_batch(["x"])


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("P8_OPENAI_API_KEY", raising=False)
    with pytest.raises(EmbeddingError, match="no API key"):
        OpenAIProvider("text-embedding-3-small").embed_batch(["x"])


def test_timeout_is_a_clear_error(openai_server: FakeOpenAI) -> None:
    openai_server.delay = 0.5
    with pytest.raises(EmbeddingError, match="timed out"):
        provider(openai_server, timeout=0.1, retries=0).embed_batch(["x"])


def test_unreachable_server_is_a_clear_error() -> None:
    dead = OpenAIProvider("text-embedding-3-small", api_key="k", base_url="http://127.0.0.1:9/v1", retries=0)
    with pytest.raises(EmbeddingError, match="request failed"):
        dead.embed_batch(["x"])


def test_client_errors_are_not_retried(openai_server: FakeOpenAI) -> None:
    openai_server.fail_with = [400]
    with pytest.raises(EmbeddingError, match=r"refused the request.*HTTP 400"):
        provider(openai_server).embed_batch(["x"])
    assert openai_server.fail_with == []
