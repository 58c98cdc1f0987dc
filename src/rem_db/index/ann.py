"""Approximate nearest-neighbour indexes: the :class:`AnnIndex` protocol and the registry of backends.

A backend is one module ending in one registration line::

    register_ann("hnsw", create=HnswIndex, load=HnswIndex.load, files=SUFFIXES, view=HnswFile.open)

``create(dimensions, capacity)`` makes an empty index; ``load(base, dimensions, stored)`` opens a saved one
(``stored``: the table's :class:`StoredVectors`, for a backend whose files do not hold them; a missing,
truncated or inconsistent file set is :class:`CorruptIndex`, and the caller rebuilds from the stored
vectors); ``view(base, dimensions, stored)``, optional, opens a saved one at once without loading it (a
search of the mapped files that also takes changes): it answers while ``load`` runs; ``files`` are the
suffixes of its files next to ``base``, the first one written last (so its presence means a complete save).
The modules shipped with REM DB are listed in :data:`BUILTIN_ANN` and imported on the first lookup: backend
modules import this one, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError
from ..registry import Registry

#: the backend used when none is named
DEFAULT_ANN = "hnsw"
#: modules that register the built-in backends (imported on the first lookup)
BUILTIN_ANN = ("rem_db.index.hnsw",)


class CorruptIndex(Exception):
    """An index file set that cannot be used; the caller rebuilds from the embeddings column family."""


class AnnIndex(Protocol):
    """Cosine nearest-neighbour search over 16-byte entity ids, with a stable integer label per id.

    ``seq`` is the last WAL sequence the index reflects (saved and loaded with it). Filters work on labels:
    ``search(..., allowed=label -> bool)``, with the labels of an id set from :meth:`labels_of`."""

    dimensions: int
    seq: int

    def __len__(self) -> int:
        """Live ids in the index."""
        ...

    def set_ef(self, ef: int) -> None:
        """Search breadth (higher: better recall, slower)."""
        ...

    def upsert(self, ids: list[bytes], vectors: np.ndarray) -> None:
        """Add ids, or replace their vectors (rows of ``vectors``, unit length)."""
        ...

    def remove(self, ids: list[bytes]) -> None:
        """Hide ids from searches (unknown ids are ignored)."""
        ...

    def label_of(self, id16: bytes) -> int | None:
        """The label of a live id, or None."""
        ...

    def labels_of(self, ids: Iterable[bytes]) -> set[int]:
        """The labels of the live ids among ``ids``."""
        ...

    def vectors(self, ids: list[bytes]) -> np.ndarray:
        """The stored vectors of live ids (``len(ids) x dimensions``)."""
        ...

    def search(self, vector: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None,
               ef: int | None = None) -> list[tuple[bytes, float]]:
        """Up to ``k`` nearest live ids with their cosine similarity, best first; ``allowed(label)``
        restricts the result to the labels it accepts; ``ef`` is this call's search breadth (backends that
        have none, such as an exact index, ignore it)."""
        ...

    def save(self, base: Path) -> None:
        """Write the index's files next to ``base`` (atomically enough that :meth:`load` never accepts a
        partial set)."""
        ...


#: reads the committed vectors of ids from the store (None: no vector stored)
StoredReader = Callable[[list[bytes]], list[np.ndarray | None]]


@dataclass(frozen=True, slots=True)
class StoredVectors:
    """One table's stored vectors (the ``embeddings`` family, the source of truth), for a backend whose files
    do not hold them: ``get`` reads some by id; ``scan`` reads them all, in key order, as chunks of
    ``(ids, matrix)``."""

    get: StoredReader
    scan: Callable[[], Iterable[tuple[list[bytes], np.ndarray]]]


@runtime_checkable
class ReadsStored(Protocol):
    """An index that reads its rows' exact vectors from the store when its owner gives it a reader (hnswlib's
    ``get_items`` costs ~17 µs a vector; a read of the stored ones ~1 µs)."""

    stored: StoredReader | None


@runtime_checkable
class SubsetSearch(Protocol):
    """An index that also searches among a given set of its labels without visiting the rest (a filter's
    rows; HNSW does it with :mod:`.sketch`): ``subset(labels)`` prepares the set once, ``search_subset``
    answers like :meth:`AnnIndex.search` with ``allowed`` = that set."""

    def subset(self, labels: set[int]) -> Any: ...

    def search_subset(self, subset: Any, vector: np.ndarray, k: int) -> list[tuple[bytes, float]]: ...


@dataclass(frozen=True, slots=True)
class AnnBackend:
    """One registered ANN implementation (see the module docstring)."""

    name: str
    create: Callable[[int, int], AnnIndex]
    load: Callable[[Path, int, StoredVectors], AnnIndex]
    files: tuple[str, ...]
    view: Callable[[Path, int, StoredVectors], AnnIndex] | None = None

    def paths(self, base: Path) -> list[Path]:
        """The files of the index saved at ``base``."""
        return [base.with_name(base.name + suffix) for suffix in self.files]

    def exists(self, base: Path) -> bool:
        """A save was completed at ``base`` (its last-written file is there)."""
        return self.paths(base)[0].exists()

    def delete(self, base: Path) -> None:
        """Remove the index files at ``base`` (the last-written one first)."""
        for path in self.paths(base):
            path.unlink(missing_ok=True)


_registry: Registry[AnnBackend] = Registry("ANN backend", BUILTIN_ANN)


def register_ann(name: str, *, create: Callable[[int, int], AnnIndex],
                 load: Callable[[Path, int, StoredVectors], AnnIndex], files: Iterable[str],
                 view: Callable[[Path, int, StoredVectors], AnnIndex] | None = None) -> None:
    """Register an ANN backend under ``name``; a name taken by another backend is a ``ValueError``."""
    backend = AnnBackend(name, create, load, tuple(files), view)
    if not name or not backend.files or any(not f.startswith(".") for f in backend.files):
        raise ValueError(f"ANN backend {name!r}: a name and file suffixes starting with '.' are needed")
    _registry.add(name, backend)


def unregister_ann(name: str) -> None:
    """Forget a registered backend (a no-op for an unknown one)."""
    _registry.remove(name)


def registered_ann() -> list[str]:
    """Every registered backend name, built-in ones included, sorted."""
    return _registry.names()


def ann_backend(name: str = DEFAULT_ANN) -> AnnBackend:
    """The backend registered as ``name``; an unknown name is a :class:`ConfigError` listing the known ones."""
    backend = _registry.get(name)
    if backend is None:
        raise ConfigError(f"unknown vector index {name!r} (registered: {', '.join(_registry.names())})")
    return backend
