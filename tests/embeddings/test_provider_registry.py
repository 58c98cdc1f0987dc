"""Adding an embedding backend is one module plus one registration line; specs resolve by their prefix."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rem_db import Database
from rem_db.config import Settings
from rem_db.embeddings import EmbeddingProviders, register_provider, registered_prefixes
from rem_db.embeddings.local import LocalMiniLM
from rem_db.embeddings.registry import unregister_provider
from rem_db.errors import ConfigError

#: a complete backend: a deterministic bag-of-words hashing embedder, registered by its last line
BACKEND = '''
import hashlib

import numpy as np

from rem_db.embeddings.interface import normalise
from rem_db.embeddings.registry import register_provider


class HashingProvider:
    def __init__(self, model, batch):
        self.spec = f"hashing:{model}"
        self.dimensions = int(model.removeprefix("d"))
        self.batch = batch
        self.calls = []

    def embed_batch(self, texts):
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        return normalise(out)


register_provider("hashing", lambda model, settings: HashingProvider(model, settings.embedding_batch_size),
                  uses=("embedding_batch_size",))
'''


@pytest.fixture
def hashing_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "rem_hashing_backend.py").write_text(BACKEND)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("rem_hashing_backend")
    try:
        yield "hashing"
    finally:
        unregister_provider("hashing")
        sys.modules.pop("rem_hashing_backend", None)


def test_a_registered_module_makes_its_prefix_resolve(hashing_backend: str) -> None:
    assert {"local", "openai", hashing_backend} <= set(registered_prefixes())
    providers = EmbeddingProviders(Settings.from_env(embedding_batch_size=7))
    provider = providers.get("hashing:d64")
    assert providers.resolve_spec("hashing:d64") == "hashing:d64"
    assert provider.spec == "hashing:d64" and provider.dimensions == 64
    vectors = provider.embed_batch(["wind turbines", "wind farms", "tax law"])
    assert vectors.shape == (3, 64) and vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert providers.get("hashing:d64") is provider  # cached per spec and the settings the backend reads
    other = EmbeddingProviders(Settings.from_env(embedding_batch_size=8)).get("hashing:d64")
    assert other is not provider and other.batch == 8  # type: ignore[attr-defined]
    again = EmbeddingProviders(Settings.from_env(embedding_batch_size=7, tenant_id="elsewhere")).get("hashing:d64")
    assert again is provider  # settings the backend does not read do not make a new provider


def test_the_default_spec_can_name_a_registered_backend(hashing_backend: str) -> None:
    providers = EmbeddingProviders(Settings.from_env(default_embedding="hashing:d32"))
    assert providers.get(None).spec == providers.get("default").spec == "hashing:d32"


def test_a_database_embeds_and_searches_through_a_registered_backend(hashing_backend: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_DEFAULT_EMBEDDING", "hashing:d128")
    with Database(tmp_path / "db") as db:
        db.register_schema({"title": "memos", "description": "Memos.", "type": "object",
                            "properties": {"key": {"type": "string"}, "body": {"type": "string"}},
                            "key_field": "key", "embedding_fields": ["body"]})
        db.insert_batch("memos", [{"key": "a", "body": "wind turbines on the ridge"},
                                  {"key": "b", "body": "quarterly tax filing deadlines"},
                                  {"key": "c", "body": "solar panels and wind power"}])
        hits = db.search("wind turbines", schema="memos", top_k=2)
        assert [e["key"] for e, _ in hits] == ["a", "c"]
        stored = db.get(hits[0][0]["id"], include_embeddings=True)["embedding"]
        assert len(stored) == 128 and abs(float(np.linalg.norm(stored)) - 1.0) < 1e-5


def test_an_unknown_prefix_is_a_config_error_listing_the_registered_ones() -> None:
    providers = EmbeddingProviders(Settings.from_env())
    with pytest.raises(ConfigError, match=r"'cohere'.*local:<model>, openai:<model>"):
        providers.get("cohere:embed-v3")
    with pytest.raises(ConfigError, match=r"local:<model>, openai:<model>"):
        EmbeddingProviders(Settings.from_env(default_embedding="nonsense")).get()


def test_a_taken_prefix_is_not_silently_replaced() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_provider("local", lambda model, settings: LocalMiniLM(model, settings=settings))
    with pytest.raises(ValueError, match="unknown settings"):
        register_provider("other", lambda model, settings: LocalMiniLM(model, settings=settings),
                          uses=("no_such_setting",))
    assert "other" not in registered_prefixes()


def test_the_local_model_is_made_once_per_process_for_the_same_settings(tmp_path: Path) -> None:
    first = EmbeddingProviders(Settings.from_env(home=tmp_path / "one")).get()
    second = EmbeddingProviders(Settings.from_env(home=tmp_path / "two", tenant_id="t2")).get()
    exact = EmbeddingProviders(Settings.from_env(local_embedding_precision="fp32")).get()
    assert first is second and exact is not first
    assert first.precision == "int8" and exact.precision == "fp32"  # type: ignore[attr-defined]
