"""Reading rows: candidate ids in chunks, or a whole table.

A whole table is read either through its row list (the ``deleted_at`` index entries, then one multi-get
per chunk of 1,000 ids — O(rows of the table)) or, when the table holds a third or more of the tenant's
entities, by one sequential pass over the tenant's entity keys, which is about three times cheaper per
entity than per-id reads (:func:`sequential_pays`). The sequential pass skips other tables' rows
without decoding them (the stored JSON starts with ``{"id":"<uuid>","entity_type":"<table>"``); a
value that does not look like that (for instance an encrypted payload) makes it fall back to the row
list before yielding anything.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from ..entities.engine import ENTITIES, EntityEngine
from ..storage.codec import TAG_NULL

CHUNK = 1000
_ID_END = 43  # len('{"id":"') + 36
_HEAD = b'{"id":"'
_TYPE_KEY = b'","entity_type":'
_NOT_NULL = bytes((TAG_NULL + 1,))  # index values above null: the soft-deleted rows of a row list


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


def fetch(engine: EntityEngine, ids: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The entities of ``ids`` (missing ones skipped), one multi-get per chunk."""
    return engine.iter_ids(iter(ids))


_counts: weakref.WeakKeyDictionary[EntityEngine, dict[tuple[str, bool], tuple[int, int]]] = \
    weakref.WeakKeyDictionary()


def table_count(engine: EntityEngine, table: str, include_deleted: bool = True) -> int:
    """Rows of a table (from its row list), cached until the next write to the store (its sequence number
    moves with every write, so cached counts stay exact)."""
    seq = engine.store.sequence()
    cache = _counts.setdefault(engine, {})
    hit = cache.get((table, include_deleted))
    if hit is not None and hit[0] == seq:
        return hit[1]
    if include_deleted:  # less the rows of an unfinished ingest (entities/hidden.py)
        n = engine.fields.count_table(table, include_deleted=True) - engine.hidden.count(engine.fields, table, True)
    else:
        n = table_count(engine, table, True) - len(deleted_ids(engine, table) - engine.hidden.ids())
    cache[(table, include_deleted)] = (seq, n)
    return n


class ScanStats:
    """What a scan read: rows of the table seen, and how many of them were decoded."""

    __slots__ = ("decoded", "seen")

    def __init__(self) -> None:
        self.seen = self.decoded = 0


def sequential_pays(engine: EntityEngine, table: str) -> bool:
    """Whether one pass over every entity of the tenant beats per-id reads for ``table``.

    Measured on this machine class: the sequential pass costs ~1 µs per entity scanned (other tables'
    rows are skipped undecoded), a multi-get ~3.5 µs per row read; so the pass wins once the table
    holds about a third of the tenant's entities."""
    total = engine.store.estimate_keys(ENTITIES)
    return bool(total) and table_count(engine, table, True) * 3 >= total


def table_rows(engine: EntityEngine, table: str, include_deleted: bool,
               prefilter: Callable[[bytes], bool] | None = None,
               stats: ScanStats | None = None) -> tuple[Iterator[dict[str, Any]], int, str]:
    """Every row of ``table`` (live ones unless ``include_deleted``); also the table's row count (the
    estimate) and how it is read. ``prefilter`` (see :mod:`.prefilter`) may skip rows by their stored
    bytes before they are decoded; ``stats`` counts what was read."""
    rows = table_count(engine, table, include_deleted)
    stats = stats if stats is not None else ScanStats()
    if sequential_pays(engine, table):
        seq = _sequential(engine, table, include_deleted, prefilter, stats)
        if seq is not None:
            how = "sequential" + (", byte pre-filter" if prefilter else "")
            return seq, rows, how
    return _counted(engine.rows(table, include_deleted), stats), rows, "row list, multi-get"


def _counted(rows: Iterator[dict[str, Any]], stats: ScanStats) -> Iterator[dict[str, Any]]:
    n = 0
    try:
        for row in rows:
            n += 1
            yield row
    finally:
        stats.seen += n
        stats.decoded += n


def deleted_ids(engine: EntityEngine, table: str) -> set[bytes]:
    """Ids of the soft-deleted rows of a table."""
    return set(engine.fields.deleted_ids(table))


def sequential_chunks(engine: EntityEngine, table: str,
                      fill_cache: bool = True) -> Iterator[tuple[list[bytes], list[bytes]]] | None:
    """One pass over the tenant's entities, in key (id) order: the stored bytes of ``table``'s rows in
    chunks, as ``(usual, odd)``. ``usual`` rows start with ``{"id":"<uuid>","entity_type":"<table>",``;
    ``odd`` ones are laid out otherwise (decoded to check their table). Chunks grow from 8 to
    :data:`CHUNK` entities scanned, so a LIMIT stops early. ``None`` when the stored values are not
    plain JSON (then read the row list). ``fill_cache=False`` for one-off bulk reads (an export), which
    should not push the indexes out of the block cache."""
    lower, upper = engine.ks.entities_range()
    values = iter(engine.store.values(ENTITIES, lower, upper, fill_cache=fill_cache))
    first = next(values, None)
    if first is None:
        return iter(())
    if not first.startswith(_HEAD):
        return None
    marker = _TYPE_KEY + orjson.dumps(table) + b","
    hidden = engine.hidden

    def chunks() -> Iterator[tuple[list[bytes], list[bytes]]]:
        loads = orjson.loads
        source = itertools.chain((first,), values)
        size = 8
        while True:  # list comprehensions do the per-row tests with little interpreter work
            chunk = list(itertools.islice(source, size))
            size = min(CHUNK, size * 2)
            if not chunk:
                return
            usual = [raw for raw in chunk if raw.startswith(marker, _ID_END)]
            odd: list[bytes] = []
            if len(usual) != len(chunk):  # other tables' rows are skipped undecoded; odd ones are checked
                odd = [raw for raw in chunk if not raw.startswith(marker, _ID_END)
                       and not raw.startswith(_TYPE_KEY, _ID_END) and loads(raw).get("entity_type") == table]
            if hidden:  # rows of an unfinished ingest (entities/hidden.py)
                usual, odd = hidden.visible_stored(usual), hidden.visible_stored(odd)
            yield usual, odd

    return chunks()


def _sequential(engine: EntityEngine, table: str, include_deleted: bool,
                prefilter: Callable[[bytes], bool] | None, stats: ScanStats) -> Iterator[dict[str, Any]] | None:
    source = sequential_chunks(engine, table)
    if source is None:
        return None

    def rows() -> Iterator[dict[str, Any]]:
        loads = orjson.loads
        seen = decoded = 0
        try:
            for usual, odd in source:
                seen += len(usual) + len(odd)
                if prefilter is not None:
                    usual = [raw for raw in usual if prefilter(raw)]
                decoded += len(usual) + len(odd)
                # stored rows hold their edge count: with_edges reads the edges back (docs/graph.md)
                yield from engine.with_edges([row for row in map(loads, itertools.chain(usual, odd))
                                              if include_deleted or row["deleted_at"] is None])
        finally:
            stats.seen += seen
            stats.decoded += decoded

    return rows()
