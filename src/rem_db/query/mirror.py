"""A per-table columnar mirror (Apache Arrow) for analytic SELECTs: scans, LIKE, GROUP BY and aggregates.

The mirror of a table holds, for the rows of that table in id (key) order, the 16-byte ids and one Arrow
array per field path a query has asked for (``deleted_at`` always). It is built on the first analytic use
(one pass over the table's rows) and kept current by the commit path: every query compares the store's
commit sequence (:meth:`~rem_db.storage.store.Store.wal_seq`) with the one the mirror reflects. When it
moved, the mirror reads the WAL records since then (they name every entity key a commit wrote), re-reads
those rows and patches its arrays; without those records (WAL off or trimmed) or when a large part of the
table changed, it is rebuilt. A read-only or secondary handle in another process sees the writer's commits
through the same check (its sequence moves when it catches up), so it never answers from a stale mirror.

Each column records the *kind* of its values, which decides what :mod:`.columnar` may compute on it:
``int`` (int64), ``float`` (float64), ``num`` (ints and floats, float64 plus an is-int mask; every int
within 2**53), ``str``, ``bool``, ``ts`` (a timestamp field whose values all parse: the text plus int64
microseconds), ``null`` (no value at all), or ``other`` (lists, objects, mixed classes): only ``IS NULL``
is computed on those, everything else falls back to the row-by-row executor, so results never change.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from ..entities.engine import ENTITIES, EntityEngine
from . import scan
from .predicates import getter
from .values import ts_micros

Path = tuple[str, ...]
EXACT = 2 ** 53  # ints up to this magnitude are exact as float64
REBUILD_SHARE = 0.2  # patching more than this share of the table: rebuild instead


@dataclass
class Column:
    """One field path's values, row-aligned with :attr:`TableMirror.ids`."""

    kind: str
    values: pa.Array  # int64 | float64 | string | bool | null; for ``other``: the JSON text (validity only)
    micros: pa.Array | None = None  # ``ts``: microseconds since the epoch
    is_int: pa.Array | None = None  # ``num``: which values are ints
    max_abs: int = 0  # ``int``: the largest magnitude (for exact sums)
    codes: tuple[Any, list[Any]] | None = None  # dictionary codes per row (-1: NULL) and the values (GROUP BY)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.values, self.micros, self.is_int) if a is not None)

    def to_list(self) -> list[Any]:
        """The stored values back as Python objects (for patching)."""
        out = self.values.to_pylist()
        if self.kind == "num" and self.is_int is not None:
            out = [int(v) if i else v for v, i in zip(out, self.is_int.to_pylist(), strict=True)]
        elif self.kind == "other":
            out = [None if v is None else orjson.loads(v) for v in out]
        return out


def make_column(values: list[Any], timestamp: bool) -> Column:
    """Classify Python values (``None``: NULL) and store them as Arrow arrays."""
    classes = {v.__class__ for v in values if v is not None}
    if not classes:
        return Column("null", pa.nulls(len(values)))
    if classes == {str}:
        arr = pa.array(values, pa.large_string())
        if timestamp:
            micros = [None if v is None else ts_micros(v) for v in values]
            if sum(m is None for m in micros) == arr.null_count:
                return Column("ts", arr, micros=pa.array(micros, pa.int64()))
            return Column("other", arr)  # texts and timestamps mixed: left to the row path
        return Column("str", arr)
    if classes == {bool}:
        return Column("bool", pa.array(values, pa.bool_()))
    if classes <= {int, float}:
        ints = [v for v in values if v.__class__ is int]
        max_abs = max((abs(v) for v in ints), default=0)
        if classes == {int}:
            if max_abs < 2 ** 63:
                return Column("int", pa.array(values, pa.int64()), max_abs=max_abs)
        elif classes == {float}:
            return Column("float", pa.array(values, pa.float64()))
        elif max_abs <= EXACT:
            return Column("num", pa.array([None if v is None else float(v) for v in values], pa.float64()),
                          is_int=pa.array([v.__class__ is int for v in values], pa.bool_()))
    texts = [None if v is None else orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode() for v in values]
    return Column("other", pa.array(texts, pa.large_string()))


@dataclass
class TableMirror:
    """The columnar image of one table at commit :attr:`seq`."""

    table: str
    seq: int
    ids: list[bytes]
    columns: dict[tuple[Path, bool], Column] = field(default_factory=dict)
    position: dict[bytes, int] = field(default_factory=dict)
    hidden: frozenset[bytes] = frozenset()  # the hidden rows (entities/hidden.py) when it was built
    builds: int = 0
    patches: int = 0
    state: str = "built"  # how the last query found it: built, patched or current (for EXPLAIN)

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        """Bytes of the Arrow arrays plus the ids (16 bytes each) and their position map (estimate)."""
        return sum(c.nbytes() for c in self.columns.values()) + len(self.ids) * (16 + 33 + 8 + 90)

    def column(self, path: Path, timestamp: bool) -> Column:
        return self.columns[(path, timestamp)]


_mirrors: weakref.WeakKeyDictionary[EntityEngine, dict[str, TableMirror]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
DELETED: tuple[Path, bool] = (("deleted_at",), True)


def _stored_rows(engine: EntityEngine, table: str) -> list[tuple[bytes, dict[str, Any]]]:
    """Every row of ``table`` (soft-deleted ones too; not the hidden rows of an unfinished ingest) as
    ``(id16, stored dict)`` in id order."""
    chunks = scan.sequential_chunks(engine, table, fill_cache=False) if scan.sequential_pays(engine, table) else None
    out: list[tuple[bytes, dict[str, Any]]] = []
    if chunks is not None:
        loads = orjson.loads
        for usual, odd in chunks:
            for raw in usual + odd:
                row = loads(raw)
                out.append((_id16(row), row))
        out.sort(key=lambda p: p[0])
        return out
    ids = sorted(engine.fields.table_ids(table))
    if engine.hidden:
        ids = list(engine.hidden.visible(iter(ids)))
    for start in range(0, len(ids), scan.CHUNK):
        part = ids[start:start + scan.CHUNK]
        for id16, row in zip(part, engine.get_stored_many(part), strict=True):
            if row is not None and row.get("entity_type") == table:
                out.append((id16, row))
    return out


def _id16(row: dict[str, Any]) -> bytes:
    import uuid
    return uuid.UUID(row["id"]).bytes


def _extract(rows: list[dict[str, Any]], keys: list[tuple[Path, bool]]) -> dict[tuple[Path, bool], Column]:
    cols = {}
    for path, ts in keys:
        get = getter(path)
        cols[(path, ts)] = make_column([get(r) for r in rows], ts)
    return cols


def mirror_for(engine: EntityEngine, table: str, wanted: set[tuple[Path, bool]]) -> TableMirror:
    """The table's mirror, current with the store and holding the columns ``wanted`` (built, patched or
    extended as needed)."""
    with _lock:
        per_engine = _mirrors.setdefault(engine, {})
        m = per_engine.get(table)
        seq = engine.store.wal_seq()
        hidden = frozenset(engine.hidden.ids()) if engine.hidden else frozenset()
        state = "current"
        if m is not None and m.seq != seq:
            state = "patched"
        if m is not None and (m.hidden != hidden or (m.seq != seq and not _patch(engine, m, seq))):
            m = None
        need = {DELETED, *wanted}
        if m is None or not need <= m.columns.keys():
            keys = need | (set(m.columns) if m is not None else set())
            pairs = _stored_rows(engine, table)
            builds = m.builds + 1 if m is not None else 1
            m = TableMirror(table, seq, [p[0] for p in pairs], hidden=hidden, builds=builds)
            m.columns = _extract([p[1] for p in pairs], sorted(keys))
            m.position = {i: n for n, i in enumerate(m.ids)}
            per_engine[table] = m
            state = "built"
        m.state = state
        return m


def memory(engine: EntityEngine) -> int:
    """Bytes the mirrors of an engine hold (Arrow buffers plus ids)."""
    with _lock:
        return sum(m.nbytes() for m in _mirrors.get(engine, {}).values())


def forget(engine: EntityEngine) -> None:
    """Drop every mirror of an engine (tests, memory pressure)."""
    with _lock:
        _mirrors.pop(engine, None)


def _changed_ids(engine: EntityEngine, since: int, upto: int) -> set[bytes] | None:
    """Ids of the entities the commits ``since + 1 … upto`` wrote, from the WAL; ``None`` when a record
    is missing (WAL off or trimmed)."""
    prefix = engine.ks.entities_range()[0]
    size = len(prefix) + 16
    ids: set[bytes] = set()
    expect = since + 1
    try:
        for seq, ops in engine.store.wal_records(expect):
            if seq > upto:
                break
            if seq != expect:
                return None
            expect += 1
            for cf, key, _ in ops:
                if cf == ENTITIES and len(key) == size and key.startswith(prefix):
                    ids.add(key[-16:])
    except Exception:  # an unreadable record: rebuild rather than guess
        return None
    return ids if expect == upto + 1 else None


def _patch(engine: EntityEngine, m: TableMirror, seq: int) -> bool:
    """Bring ``m`` to commit ``seq`` from the WAL; False when it must be rebuilt."""
    if seq < m.seq:
        return False
    changed = _changed_ids(engine, m.seq, seq)
    if changed is None or len(changed) > max(1000, REBUILD_SHARE * len(m)):
        return False
    if changed:
        hidden, changed_list = m.hidden, sorted(changed)
        rows = engine.get_stored_many(changed_list)
        fresh = {i: r for i, r in zip(changed_list, rows, strict=True)
                 if r is not None and r.get("entity_type") == m.table and i not in hidden}
        gone = {i for i in changed_list if i not in fresh and i in m.position}
        if fresh or gone:
            _apply(m, fresh, gone)
    m.seq = seq
    m.patches += 1
    return True


def _apply(m: TableMirror, fresh: dict[bytes, dict[str, Any]], gone: set[bytes]) -> None:
    """Replace, add and remove rows; keep id order."""
    lists = {key: col.to_list() for key, col in m.columns.items()}
    getters = {key: getter(key[0]) for key in m.columns}
    ids = m.ids
    appended = False
    for id16, row in fresh.items():
        n = m.position.get(id16)
        if n is None:
            ids.append(id16)
            m.position[id16] = len(ids) - 1
            for key, values in lists.items():
                values.append(getters[key](row))
            appended = True
        else:
            for key, values in lists.items():
                values[n] = getters[key](row)
    if gone or appended:
        keep = [n for n, i in enumerate(ids) if i not in gone]
        keep.sort(key=ids.__getitem__)
        order = np.asarray(keep, dtype=np.int64)
        ids[:] = [ids[n] for n in keep]
        lists = {key: [values[n] for n in order.tolist()] for key, values in lists.items()}
        m.position = {i: n for n, i in enumerate(ids)}
    m.columns = {key: make_column(values, key[1]) for key, values in lists.items()}
