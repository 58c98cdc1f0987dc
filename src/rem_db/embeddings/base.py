"""The provider interface and the factory that turns a spec like ``local:all-MiniLM-L6-v2`` into one."""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from ..config import env_count
from ..errors import ConfigError

DEFAULT_SPEC = "local:all-MiniLM-L6-v2"


class EmbeddingProvider(Protocol):
    """Turns texts into L2-normalised float32 vectors; one call per batch."""

    spec: str
    dimensions: int

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """``len(texts) x dimensions`` float32 array, rows L2-normalised."""
        ...


def default_spec() -> str:
    """``$P8_DEFAULT_EMBEDDING`` (default ``local:all-MiniLM-L6-v2``)."""
    return (os.environ.get("P8_DEFAULT_EMBEDDING") or DEFAULT_SPEC).strip()


def alt_spec() -> str | None:
    """``$P8_ALT_EMBEDDING``: a second vector per entity (``embedding_alt``), or None."""
    value = (os.environ.get("P8_ALT_EMBEDDING") or "").strip()
    return value or None


def batch_size() -> int:
    """``$P8_EMBEDDING_BATCH_SIZE`` (default 100): texts per provider call."""
    return env_count("P8_EMBEDDING_BATCH_SIZE", 100)


def resolve_spec(spec: str | None) -> str:
    """``None``/``default`` -> the default provider; anything else is checked for ``provider:model``."""
    if spec is None or spec == "default":
        spec = default_spec()
    provider, _, model = spec.partition(":")
    if provider not in ("local", "openai") or not model:
        raise ConfigError(f"embedding provider {spec!r} is not 'local:<model>' or 'openai:<model>'")
    return spec


_providers: dict[str, EmbeddingProvider] = {}
_lock = threading.Lock()


def provider_for(spec: str | None = None) -> EmbeddingProvider:
    """The (process-wide, cached) provider for a spec; loading a local model happens once."""
    spec = resolve_spec(spec)
    with _lock:
        provider = _providers.get(spec)
        if provider is None:
            kind, _, model = spec.partition(":")
            if kind == "local":
                from .local import LocalMiniLM

                provider = LocalMiniLM(model)
            else:
                from .openai import OpenAIProvider

                provider = OpenAIProvider(model)
            _providers[spec] = provider
        return provider


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
