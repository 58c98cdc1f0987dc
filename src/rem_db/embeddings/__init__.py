"""Embedding providers (SPEC §6): ``local:all-MiniLM-L6-v2`` offline by default, ``openai:*`` over HTTP."""

from .base import EmbeddingProvider, default_spec, provider_for

__all__ = ["EmbeddingProvider", "default_spec", "provider_for"]
