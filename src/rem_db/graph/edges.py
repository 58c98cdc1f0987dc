"""Adjacency reads from the ``edges`` and ``reverse_edges`` column families.

Keys (storage/keyspace.py): ``tenant · src · rel_type · dst`` forward and ``tenant · dst · rel_type · src``
reverse, ``rel_type`` escaped and terminated so any text round-trips. A node's neighbours are one prefix
scan per column family (per relation type when the walk is filtered by type), read from the keys alone:
the values (``{properties, created_at}``) are decoded only when edges are listed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from rocksdict import ReadOptions

from ..storage.codec import decode_str, encode_str, successor
from ..storage.keyspace import Keyspace
from ..storage.store import Store
from .ids import id_text

FORWARD, REVERSE = "edges", "reverse_edges"
#: column families read per direction, with the direction label of what they hold
_FAMILIES = {"out": ((FORWARD, "out"),), "in": ((REVERSE, "in"),), "both": ((FORWARD, "out"), (REVERSE, "in"))}


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


class Plan:
    """What to read for a walk in one direction: per column family, the key suffixes after the node id
    (one per followed relation type, or just the empty suffix for every type)."""

    __slots__ = ("families", "prefix", "start")

    def __init__(self, store: Store, ks: Keyspace, direction: str, rels: Sequence[str] | None) -> None:
        suffixes = [encode_str(r) for r in rels] if rels else [b""]
        self.prefix = ks.prefix
        self.start = len(ks.prefix) + 16  # where the encoded relation type starts in a key
        self.families = [(store.cfs[cf], suffixes, label) for cf, label in _FAMILIES[direction]]

    def scan(self, id16: bytes) -> Iterator[tuple[bytes, bytes]]:
        """``(key, other id16)`` of every edge of ``id16`` in this plan's direction(s), in key order per
        column family. Lazy: a caller that stops early reads no further."""
        base = self.prefix + id16
        for cf, suffixes, _ in self.families:
            for suffix in suffixes:
                prefix = base + suffix
                opts = ReadOptions()
                opts.set_iterate_upper_bound(successor(prefix))
                for key in cf.keys(from_key=prefix, read_opt=opts):
                    yield key, key[-16:]

    def scan_labelled(self, id16: bytes) -> Iterator[tuple[str, bytes, bytes]]:
        """Like :meth:`scan`, with the direction label (``out`` / ``in``) of each edge."""
        base = self.prefix + id16
        for cf, suffixes, label in self.families:
            for suffix in suffixes:
                prefix = base + suffix
                opts = ReadOptions()
                opts.set_iterate_upper_bound(successor(prefix))
                for key in cf.keys(from_key=prefix, read_opt=opts):
                    yield label, key, key[-16:]

    def relation(self, key: bytes) -> bytes:
        """The encoded relation type inside an edge key."""
        return key[self.start:-16]


def list_edges(store: Store, ks: Keyspace, id16: bytes, direction: str,
               rels: Sequence[str] | None) -> list[dict[str, Any]]:
    """The edges of one entity with their properties: ``{direction, src, dst, rel_type, properties,
    created_at}``, outgoing first, each group in (rel_type, other id) key order."""
    plan = Plan(store, ks, direction, rels)
    names = RelNames()
    me = id_text(id16)
    out = []
    base = ks.prefix + id16
    for cf, suffixes, label in plan.families:
        for suffix in suffixes:
            prefix = base + suffix
            opts = ReadOptions()
            opts.set_iterate_upper_bound(successor(prefix))
            for key, value in cf.items(from_key=prefix, read_opt=opts):
                other = id_text(key[-16:])
                data = orjson.loads(value) if value else {}
                src, dst = (me, other) if label == "out" else (other, me)
                out.append({"direction": label, "src": src, "dst": dst, "rel_type": names(plan.relation(key)),
                            "properties": data.get("properties") or {}, "created_at": data.get("created_at")})
    return out


def neighbors_batch(store: Store, ks: Keyspace, ids: Sequence[bytes], direction: str,
                    rels: Sequence[str] | None) -> dict[bytes, list[tuple[str, str, bytes]]]:
    """``id16 -> [(direction label, rel_type, neighbour id16), ...]`` for many nodes in one pass: the ids
    are sorted and every column family is read with one iterator that only moves forward."""
    plan = Plan(store, ks, direction, rels)
    names = RelNames()
    order = sorted(set(ids))
    out: dict[bytes, list[tuple[str, str, bytes]]] = {i: [] for i in order}
    for cf, suffixes, label in plan.families:
        it = cf.iter()
        for id16 in order:
            found = out[id16]
            for suffix in suffixes:
                prefix = ks.prefix + id16 + suffix
                it.seek(prefix)
                while it.valid():
                    key = it.key()
                    if not key.startswith(prefix):
                        break
                    found.append((label, names(plan.relation(key)), key[-16:]))
                    it.next()
    return out
