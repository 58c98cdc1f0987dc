"""The edge changes of one write batch: both edge keys of every added, changed or removed edge, and the packed
adjacency lists (:mod:`.adjacency`) of their sources, put once each just before the batch commits.

One :class:`EdgeChanges` belongs to one :class:`~rem_db.storage.store.Batch` (:meth:`EdgeChanges.of`). The
entity engine and the edge writes stage into it: edge keys with :meth:`link` / :meth:`update` /
:meth:`unlink`, and, for every source whose edges change, its new list with :meth:`pack` (computed from the
source's edge list, which the writer has in hand: no read). Its ``before_write`` hook puts all of it into the
batch, so it commits atomically with the entity changes and their WAL records.
"""

from __future__ import annotations

from collections.abc import Callable

from ..storage.batch import Batch
from ..storage.keyspace import Keyspace
from ..storage.store import Store
from . import adjacency as adj
from .ids import as_id16

FORWARD, REVERSE = "edges", "reverse_edges"


class EdgeChanges:
    """Edge key puts/deletes of a batch, and the packed lists of their sources."""

    __slots__ = ("_batch", "_dropped", "_forward", "_lists", "_reverse", "ks", "store")

    def __init__(self, store: Store, ks: Keyspace, batch: Batch) -> None:
        self.store = store
        self.ks = ks
        self._batch = batch
        self._forward: list[tuple[bytes, bytes | None]] = []  # (key, value | None to delete), in order
        self._reverse: list[tuple[bytes, bytes | None]] = []
        self._lists: dict[bytes, bytes | None] = {}  # source id16 -> its packed list (None: no edges)
        self._dropped: set[bytes] = set()  # ids hard-deleted by the batch

    @classmethod
    def of(cls, batch: Batch, store: Store, ks: Keyspace) -> EdgeChanges:
        """The changes staged in ``batch`` (created, with its commit hook, on first use)."""
        changes = batch.stash.get("edges")
        if changes is None:
            changes = batch.stash["edges"] = cls(store, ks, batch)
            batch.before_write.append(changes.flush)
        return changes

    def link(self, src16: bytes, rel: bytes, dst16: bytes, value: bytes) -> None:
        """Put an edge (``rel`` encoded as in keys, ``value`` from :func:`~.adjacency.edge_value`)."""
        edge = self.ks.edge
        self._forward.append((edge(src16, rel, dst16), value))
        self._reverse.append((edge(dst16, rel, src16), value))

    update = link  # new properties for an existing edge: the same two puts

    def link_many(self, src16: bytes, links: list[tuple[bytes, bytes, bytes]]) -> None:
        """:meth:`link` for ``(rel, dst16, value)`` edges of one source."""
        mine, edge = self.ks.edges_of(src16), self.ks.edge
        forward, reverse = self._forward.append, self._reverse.append
        for rel, dst16, value in links:
            forward((mine + rel + dst16, value))
            reverse((edge(dst16, rel, src16), value))

    def unlink(self, src16: bytes, rel: bytes, dst16: bytes) -> None:
        """Remove an edge."""
        edge = self.ks.edge
        self._forward.append((edge(src16, rel, dst16), None))
        self._reverse.append((edge(dst16, rel, src16), None))

    def replace(self, src16: bytes, before: list[adj.Edge], edges: list[adj.Edge],
                rel_key: Callable[[str], bytes]) -> tuple[list[adj.Edge], list[dict[str, str]]]:
        """Stage what turns a source's edge list ``before`` into ``edges`` (both complete): the edges added or
        changed are put, the others removed, and its packed list follows. Returns (edges put, removed
        ``{dst, rel_type}``)."""
        old, new = _by_key(before), _by_key(edges)
        puts, removals = [], []
        for (rel, dst), (value, edge) in new.items():
            prev = old.get((rel, dst))
            if prev is None or prev[0] != value:
                self.link(src16, rel_key(rel), _dst16(dst), value)
                puts.append(edge)
        for rel, dst in old.keys() - new.keys():
            self.unlink(src16, rel_key(rel), _dst16(dst))
            removals.append({"dst": dst, "rel_type": rel})
        if puts or removals:
            self.pack(src16, adj.packed([(rel_key(e["rel_type"]), e["dst"].encode()) for e in edges]))
        return puts, removals

    def pack(self, src16: bytes, value: bytes | None) -> None:
        """The source's packed list after this batch (:func:`~.adjacency.packed`; ``None``: it has no edges)."""
        self._lists[src16] = value

    def drop(self, id16: bytes) -> None:
        """The node is hard-deleted by this batch: its list goes (its edges are unlinked by the caller)."""
        self._dropped.add(id16)

    def flush(self) -> None:
        """Put everything staged into the batch (run by the store just before the batch is written)."""
        batch, key = self._batch, self.ks.adjacency
        batch.apply(FORWARD, self._forward)
        batch.apply(REVERSE, self._reverse)
        lists = [(key(s), None if s in self._dropped else v) for s, v in self._lists.items()]
        lists += [(key(s), None) for s in self._dropped if s not in self._lists]
        batch.apply(adj.CF, lists)
        self._forward, self._reverse, self._lists, self._dropped = [], [], {}, set()


def _dst16(dst: str) -> bytes:
    """The 16 id bytes of an edge's ``dst`` (resolved edges hold ids, never keys)."""
    id16 = as_id16(dst)
    if id16 is None:
        raise ValueError(f"edge dst is not an entity id: {dst!r}")
    return id16


def _by_key(edges: list[adj.Edge]) -> dict[tuple[str, str], tuple[bytes, adj.Edge]]:
    """``(rel_type, dst) -> (stored value, edge)`` of an edge list."""
    return {(e["rel_type"], e["dst"]): (adj.edge_value(e.get("properties") or {}, e.get("created_at")), e)
            for e in edges}
