"""Transitional module-level access to the embedding providers configured by the environment.

Each function builds an :class:`~rem_db.embeddings.providers.EmbeddingProviders` from
``Settings.from_env()`` and asks it; callers are being switched to an injected ``EmbeddingProviders`` (the
database's own settings), after which these shims go. The provider interface lives in :mod:`.interface`,
the backends register in :mod:`.registry`.
"""

from __future__ import annotations

from ..config import DEFAULT_EMBEDDING
from .interface import EmbeddingProvider, normalise
from .providers import EmbeddingProviders

DEFAULT_SPEC = DEFAULT_EMBEDDING

__all__ = ["DEFAULT_SPEC", "EmbeddingProvider", "alt_spec", "batch_size", "default_spec", "normalise",
           "provider_for", "resolve_spec"]

#: transitional: tests of other packages pop entries from it; the process-wide cache (keyed by spec and
#: settings) is in :mod:`.providers`, so a changed environment gets a new provider without popping
_providers: dict[str, EmbeddingProvider] = {}


def default_spec() -> str:
    """``$P8_DEFAULT_EMBEDDING`` (default ``local:all-MiniLM-L6-v2``)."""
    return EmbeddingProviders.from_env().default_spec


def alt_spec() -> str | None:
    """``$P8_ALT_EMBEDDING``: a second vector per entity (``embedding_alt``), or None."""
    return EmbeddingProviders.from_env().alt_spec


def batch_size() -> int:
    """``$P8_EMBEDDING_BATCH_SIZE`` (default 100): texts per provider call."""
    return EmbeddingProviders.from_env().batch_size


def resolve_spec(spec: str | None) -> str:
    """``None``/``default`` -> the default provider; anything else is checked for ``<prefix>:<model>``."""
    return EmbeddingProviders.from_env().resolve_spec(spec)


def provider_for(spec: str | None = None) -> EmbeddingProvider:
    """The (process-wide, cached) provider for a spec; loading a local model happens once."""
    return EmbeddingProviders.from_env().get(spec)
