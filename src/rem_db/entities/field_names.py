"""The top-level field names each table's rows have ever had, so a query can tell an undeclared field that
is simply absent from some rows (NULL there) from a name no row ever had (a typo: ``unknown column``).

Kept in the ``meta`` family, written in the same batch as the rows (so it replicates and survives crashes
with them): one key per (table, field name) — the name encoded like a full-text term, so an encrypted
database stores a keyed hash, never the word — and a marker key per table meaning "every row of this table
was written while names were recorded". The marker is put with a table's first write when the table is
empty. A table that held rows before this record existed has no marker; for it, :meth:`FieldNames.seen`
reads the rows until one has the field (and remembers the answer).

Names are never removed while the table exists ("ever had": deleting rows keeps them); dropping the table
removes them. Writers hold the entity engine's lock; the in-memory state changes only when a batch commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ..index.fields import FieldIndex
from ..schema.model import SYSTEM_FIELDS, TableSchema
from ..storage.batch import Batch
from ..storage.codec import successor
from ..storage.keyspace import Keyspace
from ..storage.store import Store

META = "meta"
ENTITIES = "entities"
_STASH = "field_names"
MAX_REMEMBERED = 1 << 16  # names per table kept in memory (a table using keys as data may have many)
READ_CHUNK = 1000
Pending = dict[tuple[str, str | None], bytes]  # (table, field name, or None for the marker) -> key staged


class FieldNames:
    """Records (on write) and answers (on query) which top-level fields a table's rows have had."""

    def __init__(self, store: Store, keyspace: Keyspace, fields: FieldIndex) -> None:
        self.store = store
        self.ks = keyspace
        self.fields = fields
        self._known: dict[str, set[str]] = {}  # per table: names whose keys are stored (system fields included)
        self._tracked: dict[str, bool] = {}  # per table: its marker is stored
        self._scanned: dict[tuple[str, str], bool] = {}  # (table, name) -> answer read from an unmarked table

    # -- writes (callers hold the engine lock) -------------------------------------------------------
    def note(self, batch: Batch, schema: TableSchema, record: dict[str, Any]) -> None:
        """Stage the keys of ``record``'s field names that are not stored yet (and the table's marker on its
        first write while empty)."""
        table = schema.short_name
        known = self._known.get(table)
        if known is not None and known.issuperset(record) and self._tracked.get(table) is not None:
            return  # the common case: nothing new
        pending: Pending | None = batch.stash.get(_STASH)
        if pending is None:
            pending = batch.stash[_STASH] = {}
            batch.on_commit.append(lambda _seq: self._committed(pending))
        if known is None:
            known = self._known[table] = set(SYSTEM_FIELDS)
        if table not in self._tracked and (table, None) not in pending:
            self._check_marker(batch, table, pending)
        get, meta = self.store.get, META
        for name in record:
            if name in known or (table, name) in pending:
                continue
            key = self.ks.field_name(table, name)
            if get(meta, key) is not None:
                known.add(name)  # stored by an earlier process
                continue
            batch.put(meta, key, name.encode("utf-8", "surrogatepass") if self.ks.plain_terms else b"")
            pending[(table, name)] = key

    def _check_marker(self, batch: Batch, table: str, pending: Pending) -> None:
        marker = self.ks.field_names(table)
        if self.store.get(META, marker) is not None:
            self._tracked[table] = True
        elif next(iter(self.fields.table_ids(table)), None) is None:  # empty: every row to come is recorded
            batch.put(META, marker, b"1")
            pending[(table, None)] = marker
        else:
            self._tracked[table] = False  # rows from before names were recorded: seen() reads them

    def _committed(self, pending: Pending) -> None:
        for table, name in pending:
            if name is None:
                self._tracked[table] = True
                continue
            known = self._known.setdefault(table, set(SYSTEM_FIELDS))
            if len(known) > MAX_REMEMBERED:
                known.clear()
                known.update(SYSTEM_FIELDS)
            known.add(name)

    def drop(self, batch: Batch, table: str) -> None:
        """Stage the removal of a dropped table's names and marker (forgotten in memory once committed)."""
        start = self.ks.field_names(table)
        for key in list(self.store.scan_keys(META, start, successor(start))):
            batch.delete(META, key)
        batch.on_commit.append(lambda _seq: self.forget(table))

    def forget(self, table: str) -> None:
        self._known.pop(table, None)
        self._tracked.pop(table, None)
        for key in [k for k in list(self._scanned) if k[0] == table]:  # readers may add to it meanwhile
            self._scanned.pop(key, None)

    # -- reads ---------------------------------------------------------------------------------------
    def seen(self, table: str, name: str) -> bool:
        """Whether some row of ``table`` has ever had the top-level field ``name``."""
        if name in SYSTEM_FIELDS or self.store.get(META, self.ks.field_name(table, name)) is not None:
            return True
        if self.store.get(META, self.ks.field_names(table)) is not None:
            return False  # every row was recorded
        answer = self._scanned.get((table, name))
        if answer is None:
            answer = self._scanned[(table, name)] = self._any_row_has(table, name)
        return answer

    def names(self, table: str, limit: int = 1000) -> list[str] | None:
        """The recorded field names of ``table`` (at most ``limit``), or ``None`` when they cannot be listed
        (an encrypted database stores keyed hashes of them)."""
        if not self.ks.plain_terms:
            return None
        start = self.ks.field_names(table)
        found = []
        for key, value in self.store.items(META, start, successor(start)):
            if key != start:
                found.append(value.decode("utf-8", "surrogatepass"))
                if len(found) >= limit:
                    break
        return found

    def _any_row_has(self, table: str, name: str) -> bool:
        """Read the table's rows (raw JSON first: a row without the name's bytes cannot have it)."""
        needle = orjson.dumps(name) + b":"
        for raws in self._raw_chunks(table):
            for raw in raws:
                if raw is not None and needle in raw and name in orjson.loads(raw):
                    return True
        return False

    def _raw_chunks(self, table: str) -> Iterator[Iterable[bytes | None]]:
        chunk: list[bytes] = []
        for id16 in self.fields.table_ids(table):
            chunk.append(self.ks.entity(id16))
            if len(chunk) >= READ_CHUNK:
                yield self.store.multi_get(ENTITIES, chunk)
                chunk = []
        if chunk:
            yield self.store.multi_get(ENTITIES, chunk)
