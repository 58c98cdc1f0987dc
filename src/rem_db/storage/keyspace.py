"""The key layout of every column family, scoped by tenant (SPEC §3).

All keys start with the encoded tenant, so tenants never see each other's rows, index entries or edges.
Ids are the 16 raw bytes of the UUID.

| column family | key | value |
|---|---|---|
| entities | tenant · id | entity JSON |
| field_index | tenant · table · field · typed value · id | empty |
| key_index | tenant · key value · table · id | empty |
| edges | tenant · src · rel_type · dst | edge JSON |
| reverse_edges | tenant · dst · rel_type · src | edge JSON |
| adjacency | tenant · src · ``o`` | packed out-neighbours (graph/adjacency.py) |
| wal | sequence (u64, not tenant-scoped: replication streams the whole database) | record |
"""

from __future__ import annotations

from .codec import encode_str, encode_u64, successor


class Keyspace:
    """Builds the keys of one tenant."""

    __slots__ = ("end", "prefix", "tenant")

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.prefix = encode_str(tenant)
        self.end = successor(self.prefix)

    # entities
    def entity(self, id16: bytes) -> bytes:
        return self.prefix + id16

    # field index
    def field_prefix(self, table: str, field: str) -> bytes:
        return self.prefix + encode_str(table) + encode_str(field)

    def table_prefix(self, table: str) -> bytes:
        return self.prefix + encode_str(table)

    # key index
    def key_value_prefix(self, key_value: str) -> bytes:
        return self.prefix + encode_str(key_value)

    def key_entry(self, key_value: str, table: str, id16: bytes) -> bytes:
        return self.prefix + encode_str(key_value) + encode_str(table) + id16

    # edges (forward: a = src, b = dst; reverse: a = dst, b = src)
    def edge(self, a16: bytes, rel_type: str, b16: bytes) -> bytes:
        return self.prefix + a16 + encode_str(rel_type) + b16

    def edges_of(self, a16: bytes) -> bytes:
        return self.prefix + a16


def wal_key(seq: int) -> bytes:
    return encode_u64(seq)
