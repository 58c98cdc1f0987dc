"""Bulk-written BM25 postings: one key per term per batch ("segment") instead of one per (term, document).

A batch that adds at least :data:`SEGMENT_MIN` new documents to a table writes them as a segment with a random
8-byte id ``S`` (keys built by ``Keyspace``; ``·`` joins key parts):

- ``table · "s" · S -> ids · lengths``: the documents' ids (16 bytes each, in segment order), then their token
  counts (u32 LE);
- ``table · "p" · term · S -> positions · tfs``: the positions (u16 LE) of the segment's documents that have
  the term, then its frequency in each (u16 LE). A single posting's key ends in the 16-byte id instead, so the
  suffix length tells the two apart;
- each document's length key holds ``token count (u32 BE) · S · position (u16 BE)``: where its postings live.

A segment is never rewritten. When one of its documents is updated or deleted, its postings move out (an update
writes single postings, a delete none) and ``table · "x" · S · position`` marks its entries in ``S`` *stale*; a
search drops them. Stale entries stay until the table is dropped: at most the segment's own size (4 bytes per
posting). On 100,000 ~40-word documents this is ~3 keys per row instead of ~22, 9 MiB of postings instead of
51, and a search scores a segment's postings with numpy instead of row by row.
"""

from __future__ import annotations

import os

import numpy as np

SEGMENT_MIN = 64  # new documents of one table in one batch before they are written as a segment
SEGMENT_MAX = 65_535  # positions are u16
ID_BYTES = 8
_TF_MAX = 65_535
_U16 = np.dtype("<u2")
_U32 = np.dtype("<u4")


def new_id() -> bytes:
    """A segment id (random: segments written by another process or a replica never collide)."""
    return os.urandom(ID_BYTES)


def postings(docs: list[list[str]]) -> dict[str, bytes]:
    """``term -> packed postings`` of a segment whose documents have these tokens, in order (numpy: a Python
    step per token, not per token and posting)."""
    vocab: dict[str, int] = {}
    number = vocab.setdefault
    flat = [number(token, len(vocab)) for doc in docs for token in doc]
    if not flat:
        return {}
    n = len(docs)
    where = np.repeat(np.arange(n, dtype=np.int64), [len(doc) for doc in docs])
    keys, tfs = np.unique(np.asarray(flat, dtype=np.int64) * n + where, return_counts=True)  # by term, then doc
    terms = keys // n
    positions = (keys - terms * n).astype(_U16).tobytes()
    freqs = np.minimum(tfs, _TF_MAX).astype(_U16).tobytes()
    starts = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    ends = np.append(starts[1:], len(keys))
    words = list(vocab)  # in the order they were numbered
    return {words[t]: positions[2 * s:2 * e] + freqs[2 * s:2 * e]
            for t, s, e in zip(terms[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)}


def unpack(value: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The positions (int64) and term frequencies (float64) of a packed segment posting."""
    half = len(value) // 2
    return (np.frombuffer(value, _U16, half // 2).astype(np.int64),
            np.frombuffer(value, _U16, half // 2, half).astype(np.float64))


def documents(ids: list[bytes], lengths: list[int]) -> bytes:
    """The value of a segment's ``"s"`` key."""
    return b"".join(ids) + np.asarray(lengths, dtype=_U32).tobytes()


class Segment:
    """A segment's documents as a search reads them (immutable, so cached)."""

    __slots__ = ("ids", "lengths")

    def __init__(self, value: bytes) -> None:
        count = len(value) // 20
        self.ids = value[:16 * count]
        self.lengths = np.frombuffer(value, _U32, count, 16 * count).astype(np.float64)

    def __len__(self) -> int:
        return len(self.lengths)

    def id_at(self, position: int) -> bytes:
        return self.ids[16 * position:16 * position + 16]


def length_value(count: int, segment: bytes, position: int) -> bytes:
    """A segment document's length key value."""
    return count.to_bytes(4, "big") + segment + position.to_bytes(2, "big")


def home(length: bytes | None) -> tuple[bytes, int] | None:
    """``(segment, position)`` of a document whose postings live in a segment (from its length key's value)."""
    if length is None or len(length) <= 4:
        return None
    return length[4:4 + ID_BYTES], int.from_bytes(length[4 + ID_BYTES:], "big")
