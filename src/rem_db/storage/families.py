"""The column families of a REM directory (SPEC §3).

A new feature adds its family at the END of :data:`COLUMN_FAMILIES` (a family's position is its id in WAL
records) and its key builders to ``storage/keyspace.py``; missing families are created on the next open.
"""

from __future__ import annotations

COLUMN_FAMILIES: tuple[str, ...] = (
    "entities",  # tenant + id -> entity JSON
    "key_index",  # tenant + key value + table + id -> b""
    "field_index",  # tenant + table + field + typed value + id -> b""
    "edges",  # tenant + src id + rel_type + dst id -> edge JSON
    "reverse_edges",  # tenant + dst id + rel_type + src id -> edge JSON
    "embeddings",  # vectors as raw little-endian float32
    "wal",  # sequence (u64 big-endian) -> WAL record (storage/wal.py)
    "key_material",  # wrapped keys and salts
    "meta",  # format version and other database-wide values
    "fulltext",  # BM25 postings and document lengths over embedded text
    "adjacency",  # tenant + id + b"o" -> packed outgoing neighbour ids (graph/adjacency.py)
)

FAMILY_IDS: dict[str, int] = {name: n for n, name in enumerate(COLUMN_FAMILIES)}
