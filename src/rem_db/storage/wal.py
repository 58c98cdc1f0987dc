"""The write-ahead log record of a commit (SPEC §9): one record per atomic batch, holding the batch's
operations exactly as they were stored, under a gapless sequence number.

A record is physical: ``(column family, key, stored value | delete)`` for every operation of the batch, in
order. Applying a record's operations to another store reproduces the commit exactly (entities, index
entries, edges, vectors, postings, schema rows), so a replica needs no model, schema logic or API key; and
whatever the commit wrote, a reader of the log sees it. Values are the bytes the value codec stored, so an
encrypted database's log carries ciphertext.

Format (column-wise, so building a record costs a few list appends per operation, done by
:class:`~rem_db.storage.store.Batch` as it stages them, and a handful of C calls per batch): ``b"R2"``, the
operation count ``n`` (u32), then ``n`` column family bytes (the family's id, with ``0x80`` set for a delete),
``n`` key lengths and ``n`` value lengths (u32, little-endian), then every key and then every value,
concatenated in order. Column family ids are positions in :data:`~rem_db.storage.families.COLUMN_FAMILIES`,
which only ever grows at its end.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .families import COLUMN_FAMILIES, FAMILY_IDS
from .kv import Op

MAGIC = b"R2"
COUNT = struct.Struct("<I")
DELETE_FLAG = 0x80
CF = "wal"
#: ``meta`` key holding the last committed sequence (u64 big-endian), written in each commit's batch: reading
#: it is a point get, where finding the last record means loading its (possibly megabytes large) block, and
#: it stays right when retention has trimmed every record.
POSITION_CF = "meta"
POSITION_KEY = b"wal.position"


def seq_key(seq: int) -> bytes:
    """The ``wal`` key of a sequence number: u64 big-endian, so records sort by sequence."""
    return seq.to_bytes(8, "big")


def seq_of(key: bytes) -> int:
    return int.from_bytes(key, "big")


def _lengths(count: int) -> struct.Struct:
    """The packer of a record's ``count`` key lengths followed by its ``count`` value lengths."""
    packer = _LENGTHS.get(count)
    if packer is None:
        packer = struct.Struct(f"<{2 * count}I")
        if count <= _CACHED_COUNTS:  # small batches (single writes) are the common, latency-bound case
            _LENGTHS[count] = packer
    return packer


_LENGTHS: dict[int, struct.Struct] = {}
_CACHED_COUNTS = 256


def encode(cfs: bytes | bytearray, keys: list[bytes], values: list[bytes]) -> bytes:
    """The record of operations given column-wise: family byte (``| DELETE_FLAG`` for a delete), key and
    stored value (``b""`` for a delete) of each, in commit order."""
    n = len(keys)
    return b"".join((MAGIC, COUNT.pack(n), bytes(cfs), _lengths(n).pack(*map(len, keys), *map(len, values)),
                     *keys, *values))


def decode(record: bytes) -> list[Op]:
    """The operations of a record, in commit order."""
    if record[:2] != MAGIC:
        raise ValueError("not a REM WAL record")
    (n,) = COUNT.unpack_from(record, 2)
    pos = 6
    cfs = record[pos:pos + n]
    pos += n
    lengths = _lengths(n).unpack_from(record, pos)
    klens, vlens = lengths[:n], lengths[n:]
    pos += 8 * n
    keys = []
    for length in klens:
        keys.append(record[pos:pos + length])
        pos += length
    ops: list[Op] = []
    for cf_id, key, length in zip(cfs, keys, vlens, strict=True):
        if cf_id & DELETE_FLAG:
            ops.append((COLUMN_FAMILIES[cf_id & ~DELETE_FLAG], key, None))
        else:
            ops.append((COLUMN_FAMILIES[cf_id], key, record[pos:pos + length]))
        pos += length
    return ops


def family_id(cf: str) -> int:
    return FAMILY_IDS[cf]


def records(scan: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[int, list[Op]]]:
    """``(sequence, operations)`` from a scan of the ``wal`` column family."""
    for key, value in scan:
        yield seq_of(key), decode(value)
