"""The key layout of every column family, scoped by tenant (SPEC §3): the one place keys are built.

All keys start with the encoded tenant, so tenants never see each other's rows, index entries or edges.
Ids are the 16 raw bytes of the UUID; strings are :func:`~.codec.encode_str` (self-delimiting, so a prefix
of components is a valid scan prefix).

| column family | key | value |
|---|---|---|
| entities | tenant · id | entity JSON |
| field_index | tenant · table · field · typed value · id | empty |
| key_index | tenant · key value · table · id | empty |
| edges | tenant · src · rel_type · dst | edge JSON |
| reverse_edges | tenant · dst · rel_type · src | edge JSON |
| adjacency | tenant · src · ``o`` | packed out-neighbours (graph/adjacency.py) |
| embeddings | tenant · table · provider spec · id | little-endian float32 |
| fulltext | tenant · table · ``p`` · term · id or segment / ``d`` · id / ``s``, ``x`` | tf / length |
| meta | tenant · ``embedding``/``bm25`` · table / tenant · ``fields`` · table [· term] / global names | JSON |
| wal | sequence (u64, not tenant-scoped: replication streams the whole database) | record (storage/wal.py) |

A new column family's keys get their builder here (and the family its line in storage/families.py).
"""

from __future__ import annotations

from collections.abc import Callable

from .codec import encode_str, successor
from .wal import seq_key

ADJACENCY_OUT = b"o"
POSTING = b"p"
DOC_LENGTH = b"d"
SEGMENT = b"s"
STALE = b"x"


def prefix_range(prefix: bytes) -> tuple[bytes, bytes]:
    """The half-open key range ``[prefix, successor(prefix))`` of every key starting with ``prefix``."""
    return prefix, successor(prefix)


class Keyspace:
    """Builds the keys of one tenant."""

    __slots__ = ("_term", "end", "prefix", "tenant")

    def __init__(self, tenant: str, term_encoder: Callable[[str], bytes] | None = None) -> None:
        """``term_encoder`` turns a full-text term into its key part (an encrypted database passes a keyed
        hash, so no word is stored); by default the term itself."""
        self.tenant = tenant
        self.prefix = encode_str(tenant)
        self.end = successor(self.prefix)
        self._term = term_encoder or encode_str

    # entities
    def entity(self, id16: bytes) -> bytes:
        return self.prefix + id16

    def entities_range(self) -> tuple[bytes, bytes]:
        """Every entity key of the tenant."""
        return self.prefix, self.end

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

    # edges (forward: a = src, b = dst; reverse: a = dst, b = src); ``rel`` is the encoded relation type
    def edge(self, a16: bytes, rel: bytes, b16: bytes) -> bytes:
        return self.prefix + a16 + rel + b16

    def edges_of(self, a16: bytes) -> bytes:
        return self.prefix + a16

    def rel_offset(self) -> int:
        """Where the encoded relation type starts in an edge key."""
        return len(self.prefix) + 16

    # adjacency lists
    def adjacency(self, id16: bytes) -> bytes:
        return self.prefix + id16 + ADJACENCY_OUT

    # vectors
    def vector_prefix(self, table: str, spec: str) -> bytes:
        return self.prefix + encode_str(table) + encode_str(spec)

    def vector(self, table: str, spec: str, id16: bytes) -> bytes:
        return self.vector_prefix(table, spec) + id16

    def embedding_meta(self, table: str) -> bytes:
        return self.prefix + encode_str("embedding") + encode_str(table)

    # full-text postings
    def fulltext_table(self, table: str) -> bytes:
        return self.prefix + encode_str(table)

    def posting_prefix(self, table: str, term: str) -> bytes:
        return self.fulltext_table(table) + POSTING + self._term(term)

    def posting(self, table: str, term: str, id16: bytes) -> bytes:
        return self.posting_prefix(table, term) + id16

    def doc_length(self, table: str, id16: bytes) -> bytes:
        return self.fulltext_table(table) + DOC_LENGTH + id16

    def segment_docs(self, table: str, segment: bytes) -> bytes:
        """The document ids of a bulk-written postings segment (index/bm25_segments.py)."""
        return self.fulltext_table(table) + SEGMENT + segment

    def segment_stale(self, table: str, segment: bytes) -> bytes:
        """The prefix of a segment's stale-entry markers (each followed by a u16 position)."""
        return self.fulltext_table(table) + STALE + segment

    def fulltext_stats(self, table: str) -> bytes:
        return self.prefix + encode_str("bm25") + encode_str(table)

    # the top-level field names a table's rows have had (entities/field_names.py)
    def field_names(self, table: str) -> bytes:
        """The table's marker key, and the prefix of its :meth:`field_name` keys."""
        return self.prefix + encode_str("fields") + encode_str(table)

    def field_name(self, table: str, name: str) -> bytes:
        """One field name, encoded like a full-text term (a keyed hash in an encrypted database)."""
        return self.field_names(table) + self._term(name)

    # meta: tenant · ``hidden`` · document · kind · part -> table and ids of rows an ingest wrote that are not
    # visible yet, or no longer (entities/hidden.py)
    def hidden_rows(self, doc16: bytes = b"") -> bytes:
        return self.prefix + encode_str("hidden") + doc16

    @property
    def plain_terms(self) -> bool:
        """Whether term key parts hold the words themselves (no term encoder: not an encrypted database)."""
        return self._term is encode_str


def wal_key(seq: int) -> bytes:
    return seq_key(seq)
