"""Packed adjacency lists (``adjacency`` family, key ``tenant · id · b"o"``): the outgoing neighbour ids of a
node in one value, so a walk reads a whole frontier with one multi-get instead of one key scan per node.

Value: groups, one per relation type, in the order of the edge keys: the relation type as it sits in an edge
key (:func:`~rem_db.storage.codec.encode_str`, escaped and terminated), the number of neighbours (4 bytes,
big-endian), then their ids as canonical UUID text (36 ASCII bytes each: what walks return, so they need not
format 16-byte ids; the text sorts like the bytes), sorted. A node without outgoing edges has no value. The
lists are derived data, written in the same atomic batch as the edge keys they mirror (the ``edges`` /
``reverse_edges`` families stay the truth, with the properties), computed from the source's edge list, which
the write has in hand, so keeping them costs no read.

Only outgoing edges are listed: an edge write rewrites its source anyway (its ``edges`` field), whereas listing
incoming edges would cost a read-modify-write of every destination; walks against the edge direction read the
``reverse_edges`` keys. A source with more than :data:`MAX_INLINE` outgoing edges is a hub: its entity holds
the edge count instead of the list, its packed list is :data:`OVERFLOW` followed by that count (4 bytes), and
walks and reads scan its keys (cheap next to that many keys), so changing an edge of a hub never rewrites a
long list. It gets its lists back once it falls to :data:`REPACK_AT` edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ..storage.codec import decode_str
from ..storage.keyspace import ADJACENCY_OUT, prefix_range
from ..storage.store import Store
from .ids import id_text

CF = "adjacency"
OUT = ADJACENCY_OUT  # tenant · source · OUT (storage/keyspace.py)
MAX_INLINE = 256
REPACK_AT = MAX_INLINE // 2
OVERFLOW = b"\xff"  # never starts a group: 0xff does not occur in UTF-8
_TERMINATOR = b"\x00\x00"
_EMPTY_PROPS = b'{"properties":{},"created_at":"'
#: ``meta`` key recording that the lists of every tenant are complete (databases written before they existed
#: get them built once, on their first read-write open)
READY_KEY = b"graph.adjacency.v2"
ID_TEXT = 36  # bytes per neighbour in a list: the canonical UUID text

Group = tuple[bytes, str]  # (encoded relation type, the neighbours' id texts, concatenated)
Edge = dict[str, Any]


def decode(value: bytes) -> list[Group]:
    """The ``(encoded relation type, id texts)`` groups of a packed value (not an :data:`OVERFLOW` one)."""
    groups = []
    pos, size = 0, len(value)
    while pos < size:
        end = value.index(_TERMINATOR, pos) + 2
        count = int.from_bytes(value[end:end + 4], "big")
        start = end + 4
        stop = start + ID_TEXT * count
        groups.append((value[pos:end], value[start:stop].decode("ascii")))
        pos = stop
    return groups


def encode(keys: list[tuple[bytes, bytes]]) -> bytes:
    """A packed value from ``(encoded relation type, neighbour id text as ASCII bytes)`` pairs (sorted here)."""
    parts: list[bytes] = []
    rel: bytes | None = None
    ids: list[bytes] = []
    for key_rel, other in sorted(keys):
        if key_rel != rel:
            if ids:
                parts += (rel, len(ids).to_bytes(4, "big"), *ids)  # type: ignore[arg-type]
            rel, ids = key_rel, []
        ids.append(other)
    if ids:
        parts += (rel, len(ids).to_bytes(4, "big"), *ids)  # type: ignore[arg-type]
    return b"".join(parts)


def packed(keys: list[tuple[bytes, bytes]]) -> bytes | None:
    """The list value of a node with these outgoing edges (``None``: no value)."""
    if not keys:
        return None
    return encode(keys) if len(keys) <= MAX_INLINE else overflow(len(keys))


def overflow(count: int) -> bytes:
    return OVERFLOW + count.to_bytes(4, "big")


def overflow_count(value: bytes) -> int:
    return int.from_bytes(value[1:5], "big")


def edge_value(properties: dict[str, Any], created_at: str | None) -> bytes:
    """The stored value of an edge (in both edge families): ``{"properties", "created_at"}`` JSON, or just the
    ``created_at`` text when there are no properties (most edges: a third of the bytes)."""
    if not properties and created_at:
        return created_at.encode()
    return orjson.dumps({"properties": properties, "created_at": created_at})


class EdgeValues:
    """Decodes edge values (:func:`edge_value`) to ``(properties, created_at)``; equal ``created_at`` texts
    are shared."""

    __slots__ = ("_created",)

    def __init__(self) -> None:
        self._created: dict[bytes, str] = {}

    def __call__(self, value: bytes) -> tuple[dict[str, Any], Any]:
        if value[:1] != b"{" or (value.startswith(_EMPTY_PROPS) and value.endswith(b'"}')):
            created = self._created.get(value)
            if created is None:
                text = value.decode() if value[:1] != b"{" else value[len(_EMPTY_PROPS):-2].decode()
                created = self._created[value] = text
            return {}, created
        data = orjson.loads(value)
        return data.get("properties") or {}, data.get("created_at")


def scan_edges(store: Store, prefix: bytes, names: dict[bytes, str] | None = None,
               values: EdgeValues | None = None) -> Iterator[tuple[bytes, bytes, Edge]]:
    """``(encoded relation type, neighbour id, edge)`` for every forward edge key under ``prefix`` (``tenant ·
    source id``), in key order."""
    names = {} if names is None else names
    values = EdgeValues() if values is None else values
    start = len(prefix)
    for key, value in store.items("edges", *prefix_range(prefix)):
        raw, other = key[start:-16], key[-16:]
        rel = names.get(raw)
        if rel is None:
            rel = names[raw] = decode_str(raw)[0]
        props, created = values(value)
        yield raw, other, {"dst": id_text(other), "rel_type": rel, "properties": props, "created_at": created}


def is_ready(store: Store) -> bool:
    return store.has_family(CF) and store.get("meta", READY_KEY) is not None


def ensure_ready(store: Store) -> bool:
    """Whether the lists can be read. On a read-write open of a database written before they existed, they
    are built first, from one pass over the ``edges`` keys (every tenant)."""
    if is_ready(store):
        return True
    if store.read_only or store.replica:  # a replica gets the lists (and their ready key) from its primary
        return False
    batch = store.batch()
    node: bytes | None = None
    keys: list[tuple[bytes, bytes]] = []
    for key in store.scan_keys("edges", b"", b"\xff" * 64):
        _, end = decode_str(key)  # the tenant
        head = key[:end + 16]  # tenant · source
        if head != node:
            if node is not None:
                batch.put(CF, node + OUT, packed(keys))  # type: ignore[arg-type]
            node, keys = head, []
            if batch.count >= 10_000:
                store.write(batch)
                batch = store.batch()
        keys.append((key[end + 16:-16], id_text(key[-16:]).encode()))
    if node is not None:
        batch.put(CF, node + OUT, packed(keys))  # type: ignore[arg-type]
    batch.put("meta", READY_KEY, b"1")
    store.write(batch)
    return True
