"""Decoded adjacency kept in memory between walks: the outgoing neighbours of the nodes walks expanded (from
their packed lists, :mod:`.adjacency`) and the soft-deleted ids a walk skips, so a repeated walk reads nothing.

Validity is RocksDB's own sequence number (:meth:`~rem_db.storage.store.Store.sequence`), read when a walk
starts: it moves with every write to the store — this process's commits, records a replica applies, the lists
built on a first open — so a walk after any write starts from an empty cache and never sees a list or a
soft-delete older than the state it started in. Each sequence gets a fresh :class:`Generation` (never one
cleared in place), so a walk that started before a write fills only the generation it started with, which no
later walk uses. A generation holds at most :data:`MAX_NODES` lists; once full it is replaced by an empty one.
Hubs (:data:`~.adjacency.OVERFLOW` lists) are not kept: walks read their edge keys as before.
"""

from __future__ import annotations

import threading
from typing import Any

from ..storage.store import Store

#: decoded lists kept per generation (about 1 KB each at fan-out 10)
MAX_NODES = 20_000

#: ``(encoded relation type, relation type, neighbour id texts)`` per group of a node's packed list
Group = tuple[bytes, str, tuple[str, ...]]
Groups = tuple[Group, ...]


class Generation:
    """What is cached for one store sequence: ``lists`` (node id text -> :data:`Groups`; ``()``: no outgoing
    edges) and ``skips`` (table names -> the set of soft-deleted id texts)."""

    __slots__ = ("lists", "seq", "skips")

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.lists: dict[str, Groups] = {}
        self.skips: dict[tuple[str, ...], Any] = {}

    def keep(self, node: str, groups: Groups) -> None:
        if len(self.lists) < MAX_NODES:
            self.lists[node] = groups


class AdjacencyCache:
    """The current :class:`Generation` of one tenant's graph."""

    __slots__ = ("_current", "_lock", "store")

    def __init__(self, store: Store) -> None:
        self.store = store
        self._current = Generation(-1)
        self._lock = threading.Lock()

    def generation(self) -> Generation:
        """The generation for the store's current sequence (a fresh one when anything was written since the
        last walk, or the last one is full)."""
        seq = self.store.sequence()
        current = self._current
        if current.seq != seq or len(current.lists) >= MAX_NODES:
            with self._lock:
                current = self._current
                if current.seq != seq or len(current.lists) >= MAX_NODES:
                    current = self._current = Generation(seq)
        return current
