"""Reading rows: candidate ids in chunks, or a whole table.

A whole table is read either through its row list (the ``deleted_at`` index entries, then one multi-get
per chunk of 1,000 ids — O(rows of the table)) or, when the table holds most of the tenant's entities,
by one sequential pass over the tenant's entity keys, which is about three times cheaper per row than
per-id reads. The sequential pass skips other tables' rows without decoding them (the stored JSON
starts with ``{"id":"<uuid>","entity_type":"<table>"``); a value that does not look like that
(for instance an encrypted payload) makes it fall back to the row list before yielding anything.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

CHUNK = 1000
_ID_END = 43  # len('{"id":"') + 36
_HEAD = b'{"id":"'
_TYPE_KEY = b'","entity_type":'


_gc_lock = threading.Lock()
_gc_users = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a query builds many row dicts.

    Decoded entities hold no reference cycles (reference counting frees them), but allocating tens of
    thousands of dicts triggers collections that walk every live object; pausing them makes large scans
    20-40 % faster. Nested and concurrent queries are counted; the previous setting is restored by the last.
    """
    global _gc_users, _gc_was_enabled
    with _gc_lock:
        if _gc_users == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_was_enabled:
                gc.enable()


def fetch(db: Any, ids: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The entities of ``ids`` (missing ones skipped), one multi-get per chunk."""
    return db._engine.iter_ids(iter(ids))


def table_rows(db: Any, table: str, include_deleted: bool) -> tuple[Iterator[dict[str, Any]], int, str]:
    """Every row of ``table`` (live ones unless ``include_deleted``); also the table's row count (the
    estimate) and how it is read."""
    fields = db.index
    everything = fields.count_table(table, include_deleted=True)
    rows = everything if include_deleted else everything - len(deleted_ids(db, table))
    total = _entity_estimate(db)
    if total and everything * 2 >= total:
        seq = _sequential(db, table, include_deleted)
        if seq is not None:
            return seq, rows, "sequential pass over the tenant's entities"
    return db._engine.rows(table, include_deleted), rows, "row list + multi-get in chunks"


def deleted_ids(db: Any, table: str) -> set[bytes]:
    """Ids of the soft-deleted rows of a table (their ``deleted_at`` index entries are not null)."""
    return {id16 for _, id16 in db.index.range(db.schemas.get(table), "deleted_at")}


def _entity_estimate(db: Any) -> int:
    try:
        return int(db._engine.store.cfs["entities"].property_int_value("rocksdb.estimate-num-keys") or 0)
    except Exception:  # a build without the property: use the row list
        return 0


def _sequential(db: Any, table: str, include_deleted: bool) -> Iterator[dict[str, Any]] | None:
    from rocksdict import ReadOptions

    engine = db._engine
    ks = engine.ks
    cf = engine.store.cfs["entities"]
    opts = ReadOptions()
    opts.set_iterate_upper_bound(ks.end)
    values = iter(cf.values(from_key=ks.prefix, read_opt=opts))
    first = next(values, None)
    if first is None:
        return iter(())
    if not first.startswith(_HEAD):
        return None
    marker = _TYPE_KEY + orjson.dumps(table) + b","
    end = _ID_END + len(marker)

    def rows() -> Iterator[dict[str, Any]]:
        loads = orjson.loads
        for raw in itertools.chain((first,), values):
            head = raw[_ID_END:end]
            if head == marker or not head.startswith(_TYPE_KEY):
                row = loads(raw)
                if row.get("entity_type") == table and (include_deleted or row.get("deleted_at") is None):
                    yield row

    return rows()
