"""The write-ahead log record of a commit (SPEC §9): one record per atomic batch, holding the batch's
operations exactly as they were stored, under a gapless sequence number.

A record is physical: ``(column family, key, stored value | delete)`` for every operation of the batch, in
order. Applying a record's operations to another store reproduces the commit exactly (entities, index
entries, edges, vectors, postings, schema rows), so a replica needs no model, schema logic or API key; and
whatever the commit wrote, a reader of the log sees it. Values are the bytes the value codec stored, so an
encrypted database's log carries ciphertext.

Format (column-wise, so building a record costs a few list appends per operation and a handful of C calls
per batch): ``b"R2"``, the operation count ``n`` (u32), then ``n`` column family bytes (the family's id, with
``0x80`` set for a delete), ``n`` key lengths and ``n`` value lengths (u32, little-endian), then every key and
then every value, concatenated in order. Column family ids are positions in
:data:`~rem_db.storage.families.COLUMN_FAMILIES`, which only ever grows at its end.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Iterator

from .families import COLUMN_FAMILIES, FAMILY_IDS
from .kv import Op

MAGIC = b"R2"
COUNT = struct.Struct("<I")
DELETE_FLAG = 0x80
CF = "wal"


def seq_key(seq: int) -> bytes:
    """The ``wal`` key of a sequence number: u64 big-endian, so records sort by sequence."""
    return seq.to_bytes(8, "big")


def seq_of(key: bytes) -> int:
    return int.from_bytes(key, "big")


def _u32s(values: Iterable[int]) -> bytes:
    out = array("I", values)
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def _from_u32s(raw: bytes) -> array[int]:
    out = array("I")
    out.frombytes(raw)
    if sys.byteorder == "big":
        out.byteswap()
    return out


class RecordBuilder:
    """Collects a batch's operations as they are staged; :meth:`encode` makes the record."""

    __slots__ = ("cfs", "keys", "values")

    def __init__(self) -> None:
        self.cfs = bytearray()
        self.keys: list[bytes] = []
        self.values: list[bytes] = []

    def put(self, cf_id: int, key: bytes, value: bytes) -> None:
        self.cfs.append(cf_id)
        self.keys.append(key)
        self.values.append(value)

    def delete(self, cf_id: int, key: bytes) -> None:
        self.cfs.append(cf_id | DELETE_FLAG)
        self.keys.append(key)
        self.values.append(b"")

    def put_keys(self, cf_id: int, keys: list[bytes]) -> None:
        """Many keys with empty values (index entries)."""
        self.cfs += bytes((cf_id,)) * len(keys)
        self.keys += keys
        self.values += [b""] * len(keys)

    def encode(self) -> bytes:
        keys, values = self.keys, self.values
        return b"".join((MAGIC, COUNT.pack(len(keys)), bytes(self.cfs), _u32s(map(len, keys)),
                         _u32s(map(len, values)), *keys, *values))


def decode(record: bytes) -> list[Op]:
    """The operations of a record, in commit order."""
    if record[:2] != MAGIC:
        raise ValueError("not a REM WAL record")
    (n,) = COUNT.unpack_from(record, 2)
    pos = 6
    cfs = record[pos:pos + n]
    pos += n
    klens = _from_u32s(record[pos:pos + 4 * n])
    pos += 4 * n
    vlens = _from_u32s(record[pos:pos + 4 * n])
    pos += 4 * n
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
