"""Adjacency reads: the neighbours a walk follows — outgoing ones from the packed lists of :mod:`.adjacency`
(one multi-get per chunk of a frontier), incoming ones (and hubs', and everything in a database without the
lists) from the edge keys — and the edges with their properties, from the ``edges`` / ``reverse_edges``
column families (``edges()``, a hub's ``edges`` field).

Keys (storage/keyspace.py): ``tenant · src · rel_type · dst`` forward and ``tenant · dst · rel_type · src``
reverse, ``rel_type`` escaped and terminated so any text round-trips. Values: ``{properties, created_at}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from ..storage.codec import decode_str, encode_str
from ..storage.keyspace import Keyspace, prefix_range
from ..storage.store import Store
from . import adjacency as adj
from .adjacency import EdgeValues
from .cache import Generation, Group, Groups
from .ids import id16_of, id_text, id_texts

FORWARD, REVERSE = "edges", "reverse_edges"
#: per direction: (edge column family, direction label); outgoing edges come from the packed lists
_SIDES = {"out": ((FORWARD, "out"),), "in": ((REVERSE, "in"),), "both": ((FORWARD, "out"), (REVERSE, "in"))}

#: what a walk gets per node: ``(encoded relation type, neighbour id texts)`` pieces — the groups of a packed
#: list (texts concatenated, 36 characters each), or single edges read lazily from the keys of a hub
Pieces = Iterable[tuple[bytes, str]]
ID_TEXT = adj.ID_TEXT


class RelNames:
    """Encoded relation type (as it sits in a key, terminator included) -> text, decoded once each."""

    __slots__ = ("_names",)

    def __init__(self) -> None:
        self._names: dict[bytes, str] = {}

    def __call__(self, raw: bytes) -> str:
        name = self._names.get(raw)
        if name is None:
            name = self._names[raw] = decode_str(raw)[0]
        return name


def _key_pieces(store: Store, cf: str, base: bytes, suffixes: Sequence[bytes],
                start: int) -> Iterator[tuple[bytes, str]]:
    """``(encoded relation type, neighbour id texts)`` from the edge keys under ``base + suffix``, read lazily in
    chunks of 16 keys, then 64, then 256 (a walk with a limit stops early on a hub)."""
    for suffix in suffixes:
        keys = store.scan_keys(cf, *prefix_range(base + suffix))
        size = 16
        while chunk := list(islice(keys, size)):
            size = min(size * 4, 256)
            rel = chunk[0][start:-16]
            if chunk[-1][start:-16] == rel:  # keys sort by relation type: the whole chunk has one
                yield rel, id_texts(b"".join([key[-16:] for key in chunk]))
                continue
            for key in chunk:
                yield key[start:-16], id_text(key[-16:])


class Plan:
    """What to read for a walk in one direction (``out``, ``in`` or ``both``), following every relation type
    or the given ones (in the order given). Nodes are canonical id texts."""

    __slots__ = ("_adjacency", "_cache", "_names", "_rels", "_sides", "_store", "prefix", "start")

    def __init__(self, store: Store, ks: Keyspace, direction: str, rels: Sequence[str] | None,
                 packed: bool = True, cache: Generation | None = None) -> None:
        self.prefix = ks.prefix
        self.start = ks.rel_offset()
        self._rels = [encode_str(r) for r in rels] if rels else None
        self._store = store
        self._sides = _SIDES[direction]
        self._adjacency = packed and store.has_family(adj.CF)
        self._cache = cache if self._adjacency else None
        self._names = RelNames()

    def _from_keys(self, cf: str, node: str) -> Iterator[tuple[bytes, str]]:
        return _key_pieces(self._store, cf, self.prefix + id16_of(node), self._rels or (b"",), self.start)

    def _from_list(self, value: bytes | None, cf: str, node: str) -> Pieces:
        if value is None:
            return ()
        if value[:1] == adj.OVERFLOW:  # a hub: its keys, read lazily (a walk with a limit may stop early)
            return self._from_keys(cf, node)
        groups = adj.decode(value)
        if self._rels is None:
            return groups
        found = dict(groups)
        return [(rel, found[rel]) for rel in self._rels if rel in found]

    def _lists(self, nodes: Sequence[str]) -> list[bytes | None]:
        head, tail = self.prefix, adj.OUT  # keyspace.adjacency, inlined: the walk's hot loop
        return self._store.multi_get(adj.CF, [head + id16_of(n) + tail for n in nodes])

    def expand(self, nodes: Sequence[str]) -> list[list[tuple[str, Pieces]]]:
        """Per node, ``(direction label, pieces)`` per followed direction (out before in)."""
        lists = None
        if self._adjacency and self._sides[0][1] == "out":
            lists = self._lists(nodes)
        out = []
        for n, node in enumerate(nodes):
            sides = []
            for cf, label in self._sides:
                if lists is not None and label == "out":
                    sides.append((label, self._from_list(lists[n], cf, node)))
                else:
                    sides.append((label, self._from_keys(cf, node)))
            out.append(sides)
        return out

    def pieces(self, nodes: Sequence[str]) -> list[list[Pieces]]:
        """Like :meth:`expand` without the labels (what BFS and shortest path need)."""
        if self._adjacency and len(self._sides) == 1 and self._sides[0][1] == "out":
            cf = self._sides[0][0]
            values = self._lists(nodes)
            if self._rels is None:  # the common case, inline
                return [[adj.decode(v) if v[:1] != adj.OVERFLOW else self._from_keys(cf, n)] if v is not None
                        else [()] for n, v in zip(nodes, values, strict=True)]
            return [[self._from_list(v, cf, n)] for n, v in zip(nodes, values, strict=True)]
        return [[p for _, p in per_node] for per_node in self.expand(nodes)]

    def stream(self, nodes: Sequence[str]) -> Iterator[tuple[str, list[Pieces]]]:
        """``(node, pieces per direction)`` for a frontier, read in chunks that grow from 16 to 1,024 nodes, so
        a walk that stops early (a limit) has not read the lists of the whole frontier."""
        return _chunked(nodes, self.pieces)

    def groups(self, nodes: Sequence[str]) -> list[Iterable[Group]]:
        """Per node, ``(encoded relation type, relation type, neighbour id texts)`` of every followed
        direction (out before in): what BFS needs. Outgoing lists come from the cache generation when it
        holds them, else are read (one multi-get for the misses), decoded and kept there; edge keys (a hub,
        incoming edges) are read lazily, as the walk consumes them."""
        cache = self._cache
        if cache is None or self._sides is not _SIDES["out"]:  # incoming edges: from their keys
            return [self._split(pieces) for pieces in self.pieces(nodes)]
        lists, rels = cache.lists, self._rels
        found: list[Any] = [lists.get(n) for n in nodes]
        missing = [n for n, g in zip(nodes, found, strict=True) if g is None]
        if rels is not None:
            found = [g if g is None else self._only_rels(g) for g in found]
        if missing:
            cf, names = self._sides[0][0], self._names
            read = dict(zip(missing, self._lists(missing), strict=True))
            for k, node in enumerate(nodes):
                if found[k] is not None:
                    continue
                value = read[node]
                if value is not None and value[:1] == adj.OVERFLOW:  # a hub: its keys (filtered), never kept
                    found[k] = self._split([self._from_keys(cf, node)])
                    continue
                groups: Groups = () if value is None else tuple(
                    (rel, names(rel), _split_texts(texts)) for rel, texts in adj.decode(value))
                cache.keep(node, groups)
                found[k] = groups if rels is None else self._only_rels(groups)
        return found

    def _only_rels(self, groups: Groups) -> Groups:
        """The groups of the followed relation types, in the order given (a packed list has one per type)."""
        found = {g[0]: g for g in groups}
        return tuple(found[rel] for rel in self._rels or () if rel in found)

    def _split(self, pieces: list[Pieces]) -> Iterator[Group]:
        """Groups from pieces (texts concatenated), produced as they are consumed."""
        names = self._names
        for side in pieces:
            for rel, texts in side:
                yield rel, names(rel), _split_texts(texts)

    def group_stream(self, nodes: Sequence[str]) -> Iterator[tuple[str, Iterable[Group]]]:
        """``(node, groups)`` for a frontier, in chunks that grow from 16 to 1,024 nodes (as :meth:`stream`)."""
        return _chunked(nodes, self.groups)

    def pairs(self, node: str) -> Iterator[tuple[bytes, str]]:
        """``(encoded relation type, neighbour id text)`` of every edge of one node, in walk order (for DFS)."""
        for _, pieces in self.expand([node])[0]:
            for rel, texts in pieces:
                for j in range(0, len(texts), ID_TEXT):
                    yield rel, texts[j:j + ID_TEXT]


class EdgeReader:
    """The ``edges`` field of a hub (whose entity stores only its edge count): ``[{dst, rel_type, properties,
    created_at}]`` in key order (relation type, then destination id), read from its edge keys."""

    __slots__ = ("_names", "_values", "ks", "store")

    def __init__(self, store: Store, ks: Keyspace) -> None:
        self.ks = ks
        self.store = store  # column families are looked up per call: a kept handle would keep RocksDB open
        self._names: dict[bytes, str] = {}
        self._values = EdgeValues()

    def __call__(self, id16: bytes) -> list[dict[str, Any]]:
        return [edge for _, _, edge in adj.scan_edges(self.store, self.ks.edges_of(id16), self._names, self._values)]


def list_edges(store: Store, ks: Keyspace, id16: bytes, direction: str,
               rels: Sequence[str] | None) -> list[dict[str, Any]]:
    """The edges of one entity with their properties: ``{direction, src, dst, rel_type, properties,
    created_at}``, outgoing first, each group in (rel_type, other id) key order."""
    names = RelNames()
    values = EdgeValues()
    me = id_text(id16)
    start = ks.rel_offset()
    suffixes = [encode_str(r) for r in rels] if rels else [b""]
    out = []
    base = ks.edges_of(id16)
    for cf, label in _SIDES[direction]:
        for suffix in suffixes:
            for key, value in store.items(cf, *prefix_range(base + suffix)):
                other = id_text(key[-16:])
                props, created = values(value)
                src, dst = (me, other) if label == "out" else (other, me)
                out.append({"direction": label, "src": src, "dst": dst, "rel_type": names(key[start:-16]),
                            "properties": props, "created_at": created})
    return out


def neighbors_batch(plan: Plan, nodes: Sequence[str]) -> dict[str, list[tuple[str, str, str]]]:
    """``node -> [(direction label, rel_type, neighbour id text), ...]`` for many nodes (id texts), their lists
    read with one multi-get."""
    names = RelNames()
    order = list(dict.fromkeys(nodes))
    out: dict[str, list[tuple[str, str, str]]] = {}
    for node, sides in zip(order, plan.expand(order), strict=True):
        found = out[node] = []
        for label, pieces in sides:
            for rel, texts in pieces:
                name = names(rel)
                found += [(label, name, texts[j:j + ID_TEXT]) for j in range(0, len(texts), ID_TEXT)]
    return out


def _split_texts(texts: str) -> tuple[str, ...]:
    """The neighbour id texts packed end to end in ``texts``."""
    return tuple([texts[j:j + ID_TEXT] for j in range(0, len(texts), ID_TEXT)])


def _chunked(nodes: Sequence[str], read: Callable[[Sequence[str]], Sequence[Any]]) -> Iterator[tuple[str, Any]]:
    """``(node, read(chunk)[k])`` for a frontier, read in chunks that grow from 16 to 1,024 nodes, so a walk
    that stops early (a limit) has not read the lists of the whole frontier."""
    pos, size, total = 0, 16, len(nodes)
    while pos < total:
        chunk = nodes[pos:pos + size]
        pos += size
        size = min(size * 2, 1024)
        yield from zip(chunk, read(chunk), strict=True)
