"""Embedding providers (SPEC §6): ``local:all-MiniLM-L6-v2`` offline by default, ``openai:*`` over HTTP.

A backend is one module plus one :func:`register_provider` line; :class:`EmbeddingProviders` resolves specs
and hands out providers for a :class:`~rem_db.config.Settings`.
"""

from .interface import EmbeddingProvider
from .providers import EmbeddingProviders
from .registry import register_provider, registered_prefixes

__all__ = ["EmbeddingProvider", "EmbeddingProviders", "register_provider", "registered_prefixes"]
