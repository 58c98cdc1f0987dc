"""Embedding backends by spec prefix (``local:``, ``openai:`` …).

A backend is one module ending in one registration line::

    register_provider("local", create, uses=("local_embedding_precision", "embedding_threads", "model_cache"))

``create(model, settings)`` makes the provider for ``prefix:model``; ``uses`` names the
:class:`~rem_db.config.Settings` fields it reads (with the spec they key the process-wide provider cache, so
e.g. a local model loads once per process however many databases are open). The modules shipped with REM DB
are listed in :data:`BUILTIN_PROVIDERS` and imported on the first lookup: provider modules import this one,
never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config import Settings
from ..errors import ConfigError
from ..registry import Registry
from .interface import EmbeddingProvider

#: ``(model, settings) -> provider`` for the spec ``prefix:model``
ProviderFactory = Callable[[str, Settings], EmbeddingProvider]

#: modules that register the built-in providers (imported on the first lookup)
BUILTIN_PROVIDERS = ("rem_db.embeddings.local", "rem_db.embeddings.openai")


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """One registered backend: its spec prefix, its factory and the settings fields the factory reads."""

    prefix: str
    factory: ProviderFactory
    uses: tuple[str, ...] = ()


_registry: Registry[ProviderEntry] = Registry("embedding provider prefix", BUILTIN_PROVIDERS)


def register_provider(prefix: str, factory: ProviderFactory, *, uses: Iterable[str] = (),
                      replace: bool = False) -> None:
    """Make ``prefix:<model>`` specs resolve to ``factory(model, settings)``.

    ``uses``: the :class:`~rem_db.config.Settings` fields the factory reads. Registering a prefix that is
    taken by another factory is a ``ValueError`` unless ``replace``."""
    uses = tuple(uses)
    if not prefix or ":" in prefix or prefix != prefix.strip():
        raise ValueError(f"embedding provider prefix {prefix!r} must be a non-empty name without ':'")
    unknown = [name for name in uses if name not in Settings.model_fields]
    if unknown:
        raise ValueError(f"embedding provider {prefix!r} uses unknown settings {unknown}")
    _registry.add(prefix, ProviderEntry(prefix, factory, uses), replace=replace,
                  same=lambda current, new: current.factory is new.factory)


def unregister_provider(prefix: str) -> None:
    """Forget a registered prefix (a no-op for an unknown one)."""
    _registry.remove(prefix)


def registered_prefixes() -> list[str]:
    """Every registered prefix, built-in ones included, sorted."""
    return _registry.names()


def provider_entry(prefix: str) -> ProviderEntry:
    """The registration of ``prefix``; an unknown prefix is a :class:`ConfigError` listing the known ones."""
    entry = _registry.get(prefix)
    if entry is None:
        raise ConfigError(f"unknown embedding provider {prefix!r} (registered: "
                          f"{', '.join(p + ':<model>' for p in _registry.names())})")
    return entry
