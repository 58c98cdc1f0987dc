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

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module

from ..config import Settings
from ..errors import ConfigError
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


_entries: dict[str, ProviderEntry] = {}
_lock = threading.Lock()
_builtins_loaded = False


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
    entry = ProviderEntry(prefix, factory, uses)
    with _lock:
        current = _entries.get(prefix)
        if current is not None and current.factory is not factory and not replace:
            raise ValueError(f"embedding provider prefix {prefix!r} is already registered by "
                             f"{getattr(current.factory, '__module__', '?')}")
        _entries[prefix] = entry


def unregister_provider(prefix: str) -> None:
    """Forget a registered prefix (a no-op for an unknown one)."""
    with _lock:
        _entries.pop(prefix, None)


def registered_prefixes() -> list[str]:
    """Every registered prefix, built-in ones included, sorted."""
    _load_builtins()
    with _lock:
        return sorted(_entries)


def provider_entry(prefix: str) -> ProviderEntry:
    """The registration of ``prefix``; an unknown prefix is a :class:`ConfigError` listing the known ones."""
    _load_builtins()
    with _lock:
        entry = _entries.get(prefix)
        known = sorted(_entries)
    if entry is None:
        raise ConfigError(f"unknown embedding provider {prefix!r} (registered: "
                          f"{', '.join(p + ':<model>' for p in known)})")
    return entry


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for name in BUILTIN_PROVIDERS:
        import_module(name)  # each module registers itself
    _builtins_loaded = True
