"""The registry every kind of backend uses (embedding providers, document readers, ANN indexes, …):
named entries in registration order, the built-in modules imported on the first lookup (each registers
itself with one line, so importing them at module load would be an import circle), thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name; ``what`` names the kind in error messages."""

    def __init__(self, what: str, builtins: Iterable[str]) -> None:
        self.what = what
        self.builtins = tuple(builtins)
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()
        self._loaded = False

    def add(self, name: str, entry: T, *, replace: bool = False,
            same: Callable[[T, T], bool] = lambda a, b: a == b,
            check: Callable[[Mapping[str, T]], None] | None = None) -> None:
        """Register ``entry`` as ``name``. Registering the same entry again is a no-op; another one under a
        taken name is a ``ValueError`` unless ``replace``. ``check(other entries)`` may refuse it too."""
        with self._lock:
            current = self._entries.get(name)
            if current is not None and not replace and not same(current, entry):
                raise ValueError(f"{self.what} {name!r} is already registered")
            if check is not None:
                check({n: e for n, e in self._entries.items() if n != name})
            self._entries[name] = entry

    def remove(self, name: str) -> None:
        """Forget an entry (a no-op for an unknown name)."""
        with self._lock:
            self._entries.pop(name, None)

    def get(self, name: str) -> T | None:
        self._load_builtins()
        with self._lock:
            return self._entries.get(name)

    def names(self) -> list[str]:
        """Every registered name, built-in ones included, sorted."""
        self._load_builtins()
        with self._lock:
            return sorted(self._entries)

    def entries(self) -> list[T]:
        """Every entry, built-in ones included, in registration order."""
        self._load_builtins()
        with self._lock:
            return list(self._entries.values())

    def _load_builtins(self) -> None:
        if self._loaded:
            return
        for module in self.builtins:
            import_module(module)  # each module registers itself
        self._loaded = True
