"""Rows that are stored but not visible: the chunks of a large document while it is being ingested in
several batches (until its document row commits), and the chunks its previous version replaced (until they
are deleted, right after). Every read leaves them out; a crash leaves them to be deleted on the next open or
ingest (docs/ingest.md, "Large files").

Which rows are hidden is durable: each batch that writes hidden rows also writes their ids under a ``meta``
key of their document (:meth:`~rem_db.storage.keyspace.Keyspace.hidden_rows` · kind · part number), in the
same atomic write. An open reads those keys back into a :class:`HiddenRows` set (one seek when there are
none); the write that makes a document visible deletes its keys.

Readers ask the set with C-level operations only (``in``, set copies, ``len``), so they need no lock while
a writer changes it. A writer hides rows before the batch that writes them commits, and shows them again
after the batch that commits their document, so no reader sees them early.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..storage.codec import decode_str, encode_str, successor
from ..storage.keyspace import Keyspace

if TYPE_CHECKING:
    from ..index.fields import FieldIndex
    from ..storage.store import Store

META = "meta"
STAGED = b"s"  # new rows of a document being written: deleted if its ingest does not finish
RETIRED = b"r"  # rows of the version a document replaced: deleted right after the replacement
PART_IDS = 2048  # ids per meta key
_ID_TEXT = slice(7, 43)  # the id text in stored JSON: {"id":"<36 characters>", ...
_HEAD = b'{"id":"'


@dataclass(frozen=True)
class HiddenPart:
    """One ``meta`` key: up to :data:`PART_IDS` hidden rows of one table, for one document."""

    key: bytes
    doc16: bytes
    kind: bytes
    table: str
    ids: list[bytes]


def part_key(ks: Keyspace, doc16: bytes, kind: bytes, number: int) -> bytes:
    return ks.hidden_rows(doc16) + kind + number.to_bytes(4, "big")


def part_value(table: str, ids: list[bytes]) -> bytes:
    return encode_str(table) + b"".join(ids)


def read_parts(store: Store, ks: Keyspace, doc16: bytes = b"") -> Iterator[HiddenPart]:
    """The hidden-row keys of one document (``doc16``), or of every document of the tenant."""
    prefix = ks.hidden_rows(doc16)
    start = len(ks.hidden_rows())
    for key, value in store.scan(META, prefix, successor(prefix)):
        if value is None:
            continue
        table, end = decode_str(value)
        ids = [value[n:n + 16] for n in range(end, len(value), 16)]
        yield HiddenPart(key, key[start:start + 16], key[start + 16:start + 17], table, ids)


class HiddenRows:
    """The rows of one tenant that reads leave out, by table (see the module docstring)."""

    def __init__(self) -> None:
        self._tables: dict[str, set[bytes]] = {}
        #: documents an ingest of this process is writing: a purge leaves their rows alone
        self.active: set[bytes] = set()
        #: one purge at a time (the open's background purge and an ingest's)
        self.purging = threading.Lock()
        #: set when the database closes: a background purge stops between its steps
        self.closing = threading.Event()

    @classmethod
    def load(cls, store: Store, ks: Keyspace) -> HiddenRows:
        """The hidden rows recorded in the store (none: one seek)."""
        hidden = cls()
        for part in read_parts(store, ks):
            hidden.hide(part.table, part.ids)
        return hidden

    def reload(self, store: Store, ks: Keyspace) -> None:
        """Read the recorded hidden rows again (a replica after applying its primary's records); the map is
        swapped whole, so readers, which ask it without a lock, never see it half-read."""
        self._tables = HiddenRows.load(store, ks)._tables

    # -- reads -------------------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return any(self._tables.values())

    def __contains__(self, id16: object) -> bool:
        return any(id16 in ids for ids in list(self._tables.values()))

    def ids(self) -> set[bytes]:
        """Every hidden id (a copy)."""
        out: set[bytes] = set()
        for ids in list(self._tables.values()):
            out |= ids
        return out

    def visible(self, ids: Iterable[bytes]) -> Iterator[bytes]:
        """``ids`` without the hidden ones."""
        sets = [s for s in list(self._tables.values()) if s]
        if len(sets) == 1:
            only = sets[0]
            return (i for i in ids if i not in only)
        return (i for i in ids if not any(i in s for s in sets))

    def visible_stored(self, raws: list[bytes]) -> list[bytes]:
        """Stored entity JSON values without those of hidden rows."""
        if not self:
            return raws
        return [raw for raw in raws if _stored_id(raw) not in self]

    def count(self, fields: FieldIndex, table: str, include_deleted: bool) -> int:
        """How many of a table's rows (live ones unless ``include_deleted``) are hidden: what a row count
        read from the index must leave out."""
        ids = set(self._tables.get(table, ()))
        if not ids:
            return 0
        if include_deleted:
            return len(ids)
        return len(ids) - sum(1 for i in fields.deleted_ids(table) if i in ids)

    # -- writes (callers hold the entity engine's lock) --------------------------------------------
    def hide(self, table: str, ids: Iterable[bytes]) -> None:
        self._tables.setdefault(table, set()).update(ids)

    def show(self, table: str, ids: Iterable[bytes]) -> None:
        current = self._tables.get(table)
        if current is not None:
            current.difference_update(ids)


def _stored_id(raw: bytes) -> bytes:
    """The 16-byte id of a stored entity JSON value."""
    text: Any = raw[_ID_TEXT] if raw.startswith(_HEAD) else orjson.loads(raw)["id"].encode()
    return bytes.fromhex(text.decode().replace("-", ""))
