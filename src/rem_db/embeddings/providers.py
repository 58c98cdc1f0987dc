"""The embedding providers of one :class:`~rem_db.config.Settings`: spec resolution, the default and
alternative specs, the batch size, and the providers themselves (cached process-wide)."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from ..config import Settings
from ..errors import ConfigError
from .interface import EmbeddingProvider
from .registry import provider_entry, registered_prefixes

#: (spec, the values of the settings fields its backend reads) -> provider; shared by every
#: :class:`EmbeddingProviders` of the process, so a local model loads once
_cache: dict[tuple[str, tuple[Hashable, ...]], EmbeddingProvider] = {}
_lock = threading.Lock()


class EmbeddingProviders:
    """Answers every embedding question of a database from its settings.

    ``get(spec)`` returns the provider for ``prefix:model`` (``None``/``"default"``: ``P8_DEFAULT_EMBEDDING``);
    providers are cached per process, keyed by the spec and the settings their backend reads."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @classmethod
    def from_env(cls) -> EmbeddingProviders:
        """Providers configured by the environment (``Settings.from_env()``)."""
        return cls(Settings.from_env())

    @property
    def settings(self) -> Settings:
        """The settings the providers are made from."""
        return self._settings

    @property
    def default_spec(self) -> str:
        """``P8_DEFAULT_EMBEDDING`` (default ``local:all-MiniLM-L6-v2``), not yet checked."""
        return self._settings.default_embedding.strip()

    @property
    def alt_spec(self) -> str | None:
        """``P8_ALT_EMBEDDING``: a second vector per entity (``embedding_alt``), or None."""
        return (self._settings.alt_embedding or "").strip() or None

    @property
    def batch_size(self) -> int:
        """``P8_EMBEDDING_BATCH_SIZE`` (default 100): texts per provider call."""
        return self._settings.embedding_batch_size

    def resolve_spec(self, spec: str | None) -> str:
        """``None``/``"default"`` -> the default spec; any spec is checked to be ``<registered prefix>:<model>``
        (a :class:`ConfigError` lists the registered prefixes otherwise)."""
        if spec is None or spec == "default":
            spec = self.default_spec
        prefix, _, model = spec.partition(":")
        if not model:
            raise ConfigError(f"embedding provider {spec!r} is not <provider>:<model> (providers: "
                              f"{', '.join(p + ':<model>' for p in registered_prefixes())})")
        provider_entry(prefix)
        return spec

    def get(self, spec: str | None = None) -> EmbeddingProvider:
        """The provider for ``spec`` (resolved as :meth:`resolve_spec`), made once per process."""
        spec = self.resolve_spec(spec)
        prefix, _, model = spec.partition(":")
        entry = provider_entry(prefix)
        key = (spec, tuple(getattr(self._settings, name) for name in entry.uses))
        with _lock:
            provider = _cache.get(key)
            if provider is None:
                provider = entry.factory(model, self._settings)
                _cache[key] = provider
            return provider


def forget_providers() -> None:
    """Drop every cached provider (the next :meth:`EmbeddingProviders.get` makes new ones)."""
    with _lock:
        _cache.clear()
