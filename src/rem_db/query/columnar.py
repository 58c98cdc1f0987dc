"""WHERE, GROUP BY and aggregates computed with Arrow compute over a table's :mod:`.mirror`.

Only what has exactly the row executor's meaning is computed here; anything else raises
:class:`Unsupported` and the SELECT runs row by row (:mod:`.executor`). Exactness rests on the column kinds
of :mod:`.mirror`: a column whose non-null values are all of one class compares with a literal of that class
as Arrow does (numbers numerically, strings by code point — UTF-8 byte order — timestamps by microsecond),
and with a literal of another class is UNKNOWN (the typed comparisons of :mod:`.values`). NULL logic is
Kleene's (``and_kleene``/``or_kleene``/``invert``), which is SQL's. List and object values, mixed classes,
field-to-field comparisons and the ``edges`` field are left to the row path. SUM and AVG of floats keep
:func:`math.fsum`'s correctly rounded totals (computed per group on the group's values).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .aggregate import AggSpec
from .binder import TableInfo
from .mirror import DELETED, EXACT, Column, Path, TableMirror
from .plan import And, Between, Compare, Const, Expr, Field, InList, IsNull, Like, Not, Or, Truth
from .predicates import FLIP, Compiler, canonical_id
from .values import BOOL, NUMBER, STRING, TIMESTAMP, typed_key

Row = dict[str, Any]
OPS: dict[str, Callable[..., Any]] = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                                      ">": pc.greater, ">=": pc.greater_equal}
KIND_CLASS = {"int": NUMBER, "float": NUMBER, "num": NUMBER, "str": STRING, "ts": TIMESTAMP, "bool": BOOL}
GROUP_KINDS = ("int", "str", "bool")
COUNT_ALL, COUNT_VALID = pc.CountOptions(mode="all"), pc.CountOptions(mode="only_valid")
MINMAX_KINDS = ("int", "float", "str", "bool")


class Unsupported(Exception):
    """This query (or part) is left to the row executor."""


def _fields(expr: Any, out: list[Field]) -> list[Field]:
    if isinstance(expr, Field):
        out.append(expr)
    elif isinstance(expr, And | Or):
        for part in expr.items:
            _fields(part, out)
    elif isinstance(expr, Not):
        _fields(expr.item, out)
    elif isinstance(expr, Compare):
        _fields(expr.left, out)
        _fields(expr.right, out)
    elif isinstance(expr, InList):
        _fields(expr.expr, out)
        for operand in expr.items:
            _fields(operand, out)
    elif isinstance(expr, Between):
        for bound in (expr.expr, expr.low, expr.high):
            _fields(bound, out)
    elif isinstance(expr, Like):
        _fields(expr.expr, out)
        _fields(expr.pattern, out)
    elif isinstance(expr, IsNull | Truth):
        _fields(expr.expr, out)
    return out


def wanted(table: TableInfo, text: str, where: Expr | None, group: list[Any], aggs: list[AggSpec]) \
        -> set[tuple[Path, bool]]:
    """The mirror columns a query reads, as ``(path, timestamp)``."""
    keys: set[tuple[Path, bool]] = set()
    for f in _fields(where, []):
        info = table.field(f, text)
        keys.add((info.path, info.timestamp))
    for info in group:
        keys.add((info.path, info.timestamp))
    for agg in aggs:
        if agg.path is not None:
            keys.add((agg.path, agg.timestamp))
    for path, _ in keys:
        if path[0] == "edges":  # a hub's stored row holds the edge count, not the list
            raise Unsupported("edges")
    return keys


class Where:
    """Evaluates a bound WHERE over a mirror into a boolean array (NULL: UNKNOWN)."""

    def __init__(self, m: TableMirror, table: TableInfo, text: str) -> None:
        self.m, self.table, self.text, self.n = m, table, text, len(m)

    def nulls(self) -> pa.Array:
        return pa.nulls(self.n, pa.bool_())

    def const(self, value: Any) -> pa.Array:
        if value is None:
            return self.nulls()
        return pa.array(np.full(self.n, bool(value)), pa.bool_())

    def col(self, f: Field) -> tuple[Column, bool, bool]:
        info = self.table.field(f, self.text)
        return self.m.column(info.path, info.timestamp), info.timestamp, info.path == ("id",)

    def eval(self, expr: Expr | None) -> pa.Array:
        if expr is None:
            return self.const(True)
        if not _fields(expr, []):  # no column: the same value for every row
            return self.const(Compiler(self.table, self.text).compile(expr)({}))
        if isinstance(expr, And | Or):
            combine = pc.and_kleene if isinstance(expr, And) else pc.or_kleene
            out = self.eval(expr.items[0])
            for item in expr.items[1:]:
                out = combine(out, self.eval(item))
            return out
        if isinstance(expr, Not):
            return pc.invert(self.eval(expr.item))
        if isinstance(expr, Compare):
            left, right, op = expr.left, expr.right, expr.op
            if isinstance(right, Field) and isinstance(left, Const):
                left, right, op = right, left, FLIP[op]
            if not (isinstance(left, Field) and isinstance(right, Const)):
                raise Unsupported("a comparison of two columns")
            col, ts, is_id = self.col(left)
            return self.compare(col, op, canonical_id(right.value) if is_id else right.value, ts)
        if isinstance(expr, Between) and isinstance(expr.expr, Field):
            if not (isinstance(expr.low, Const) and isinstance(expr.high, Const)):
                raise Unsupported("BETWEEN columns")
            col, ts, _ = self.col(expr.expr)
            return pc.and_kleene(self.compare(col, ">=", expr.low.value, ts),
                                 self.compare(col, "<=", expr.high.value, ts))
        if isinstance(expr, InList) and isinstance(expr.expr, Field):
            return self.in_list(expr)
        if isinstance(expr, Like) and isinstance(expr.expr, Field):
            return self.like(expr)
        if isinstance(expr, IsNull) and isinstance(expr.expr, Field):
            return pc.is_null(self.col(expr.expr)[0].values)
        if isinstance(expr, Truth) and isinstance(expr.expr, Field):
            col = self.col(expr.expr)[0]
            if col.kind == "bool":
                return col.values
            if col.kind == "other":
                raise Unsupported("a truth test of mixed values")
            return self.nulls()
        raise Unsupported(type(expr).__name__)

    def compare(self, col: Column, op: str, value: Any, ts: bool) -> pa.Array:
        if col.kind == "other":
            raise Unsupported("mixed values")
        if isinstance(value, list | tuple | dict):
            raise Unsupported("a non-scalar literal")
        key = typed_key(value, ts)
        if key is None or col.kind == "null":
            return self.nulls()
        cls, c = key
        if cls != KIND_CLASS[col.kind]:  # a value of another class: UNKNOWN (values.py)
            return self.nulls()
        if cls == NUMBER:
            if col.kind == "int" and ((isinstance(c, float) and col.max_abs > EXACT) or abs(c) >= 2 ** 63):
                raise Unsupported("a literal beyond exact float range")
            if col.kind != "int" and isinstance(c, int) and abs(c) > EXACT:
                raise Unsupported("an integer beyond exact float range")
        data = col.micros if cls == TIMESTAMP else col.values
        return OPS[op](data, pa.scalar(c))

    def in_list(self, expr: InList) -> pa.Array:
        col, ts, is_id = self.col(expr.expr)  # type: ignore[arg-type]
        if col.kind == "other":
            raise Unsupported("mixed values")
        keys: set[tuple[int, Any]] = set()
        has_null = False
        for item in expr.items:
            if not isinstance(item, Const) or isinstance(item.value, list | tuple | dict):
                raise Unsupported("IN of non-literals")
            key = typed_key(canonical_id(item.value) if is_id else item.value, ts)
            if key is None:
                has_null = True
            else:
                keys.add(key)
        if col.kind == "null":
            return self.nulls()
        mine = KIND_CLASS[col.kind]
        unknown_miss = has_null or any(k[0] != mine for k in keys)
        same = [c for cls, c in keys if cls == mine]
        data = col.micros if mine == TIMESTAMP else col.values
        assert data is not None
        if col.kind == "int":
            if any(isinstance(c, float) for c in same) and col.max_abs > EXACT:
                raise Unsupported("a literal beyond exact float range")
            same = [int(c) for c in same if c == int(c) and abs(c) < 2 ** 63]
        elif col.kind in ("float", "num"):
            if any(isinstance(c, int) and abs(c) > EXACT for c in same):
                raise Unsupported("an integer beyond exact float range")
            same = [float(c) for c in same]
        hit = pc.is_in(data, value_set=pa.array(same, data.type)) if same else \
            pa.array(np.zeros(self.n, bool), pa.bool_())
        out = pc.if_else(hit, True, pa.scalar(None, pa.bool_())) if unknown_miss else hit
        return pc.if_else(pc.is_valid(data), out, pa.scalar(None, pa.bool_()))

    def like(self, expr: Like) -> pa.Array:
        col = self.col(expr.expr)[0]  # type: ignore[arg-type]
        if not isinstance(expr.pattern, Const):
            raise Unsupported("a LIKE pattern column")
        pattern = expr.pattern.value
        if pattern is None or col.kind not in ("str", "ts", "other"):
            return self.nulls()  # NULL pattern, or values that are not text: UNKNOWN
        if col.kind == "other" or not isinstance(pattern, str):
            raise Unsupported("mixed values")
        if expr.insensitive and (not pattern.isascii()
                                 or pc.all(pc.string_is_ascii(col.values)).as_py() is False):
            raise Unsupported("ILIKE over non-ASCII text")
        body = pattern[1:-1]
        if (not expr.insensitive and expr.escape is None and len(pattern) > 2 and pattern[0] == pattern[-1] == "%"
                and not set(body) & set("%_")):
            found = contains(col.values, body.encode())
            if found is not None:
                return found
        return pc.match_like(col.values, arrow_like(pattern, expr.escape), ignore_case=expr.insensitive)


def contains(values: pa.Array, needle: bytes) -> pa.Array | None:
    """``LIKE '%needle%'`` by one search over the column's UTF-8 bytes (a byte match is a character match
    in UTF-8); ``None`` when the needle occurs so often that Arrow's per-row search is cheaper."""
    if values.type != pa.large_string() or not needle:
        return None
    _, offsets_buf, data = values.buffers()
    if data is None:
        return None
    n = len(values)
    offsets = np.frombuffer(offsets_buf, np.int64)[values.offset:values.offset + n + 1]
    starts = []
    budget = n // 4 + 16
    for match in re.finditer(re.escape(needle), memoryview(data)):
        starts.append(match.start())
        if len(starts) > budget:
            return None
    hit = np.zeros(n, bool)
    if starts:
        at = np.asarray(starts, np.int64)
        rows = np.searchsorted(offsets, at, side="right") - 1
        inside = (rows < n) & (at + len(needle) <= offsets[np.minimum(rows + 1, n)])
        hit[rows[inside]] = True
    out = pa.array(hit, pa.bool_())
    return pc.if_else(pc.is_valid(values), out, pa.scalar(None, pa.bool_())) if values.null_count else out


def arrow_like(pattern: str, escape: str | None) -> str:
    """Our LIKE pattern (no escape character unless ``ESCAPE`` names one) as Arrow's (backslash escapes)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            i += 1
            if i >= len(pattern):
                raise Unsupported("a pattern ending in its escape")
            ch = pattern[i]
            out.append("\\" + ch if ch in "%_\\" else ch)
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def live_mask(m: TableMirror, include_deleted: bool) -> pa.Array | None:
    """Rows to consider: not soft-deleted unless asked (``None``: every row)."""
    if include_deleted:
        return None
    return pc.is_null(m.column(*DELETED).values)


def keep(m: TableMirror, table: TableInfo, text: str, where: Expr | None, include_deleted: bool) -> np.ndarray:
    """Positions of the mirror's rows that pass WHERE (and are live unless ``include_deleted``)."""
    result = Where(m, table, text).eval(where)
    live = live_mask(m, include_deleted)
    if live is not None:
        result = pc.and_kleene(result, live)
    return np.flatnonzero(result.fill_null(False).to_numpy(zero_copy_only=False))


def aggregate(m: TableMirror, positions: np.ndarray, group: list[Any], outputs: list[Any], text: str) -> list[Row]:
    """The aggregate rows (one per group, in order of first appearance) over the rows at ``positions``."""
    if len(group) == 1 and all(o.agg is None or (o.agg.func == "count" and o.agg.path is None) for o in outputs):
        return _count_groups(m, positions, group[0], outputs)
    idx = pa.array(positions, pa.int64())
    every = len(positions) == len(m)  # positions are 0..n-1: read the arrays as they are

    def take(values: pa.Array) -> pa.Array:
        return values if every else values.take(idx)
    arrays: dict[str, pa.Array] = {"__row": pa.array(np.arange(len(positions)), pa.int64())}
    names = []
    for n, info in enumerate(group):
        col = m.column(info.path, info.timestamp)
        if col.kind not in GROUP_KINDS:
            raise Unsupported(f"GROUP BY over {col.kind} values")
        arrays[f"g{n}"] = take(col.values)
        names.append(f"g{n}")
    specs: list[tuple[str, str, Any]] = [("__row", "count", COUNT_ALL)]
    post: list[tuple[str, Any]] = []  # per output: how to read its value from the grouped table
    need_rows = False
    for n, o in enumerate(outputs):
        agg: AggSpec | None = o.agg
        if agg is None:
            position = next(i for i, info in enumerate(group) if info.path == o.field.path)
            post.append(("key", f"g{position}"))
            continue
        if agg.path is None:  # COUNT(*)
            post.append(("col", "__row_count"))
            continue
        col = m.column(agg.path, agg.timestamp)
        name = f"a{n}"
        arrays[name] = take(col.values)
        if agg.func == "count":
            specs.append((name, "count", COUNT_VALID))
            post.append(("col", f"{name}_count"))
        elif agg.func in ("min", "max"):
            if col.kind == "null":
                post.append(("none", None))
            elif col.kind in MINMAX_KINDS and not (col.kind == "float" and _negative_zero(col)):
                specs.append((name, agg.func, None))
                post.append(("col", f"{name}_{agg.func}"))
            else:
                raise Unsupported(f"{agg.label} over {col.kind} values")
        else:  # sum / avg: exact totals per group in Python (math.fsum for floats)
            if col.kind == "null":
                post.append(("none", None))
                continue
            if col.kind not in ("int", "float", "num"):
                raise Unsupported(f"{agg.label} over {col.kind} values")
            if col.kind == "num":
                assert col.is_int is not None
                arrays[f"{name}_isint"] = take(col.is_int)
            post.append(("sum", (agg, name, col.kind)))
            need_rows = True
    if need_rows:
        specs.append(("__row", "list", None))
    t = pa.table(arrays)
    grouped = t.group_by(names, use_threads=False).aggregate(specs) if names else \
        _whole(t, specs)
    columns = {name: grouped.column(name).to_pylist() for name in grouped.column_names}
    n_groups = grouped.num_rows
    out: list[Row] = []
    for g in range(n_groups):
        row: Row = {}
        for o, (how, arg) in zip(outputs, post, strict=True):
            if how == "key" or how == "col":
                row[o.name] = columns[arg][g]
            elif how == "none":
                row[o.name] = None
            else:
                agg, name, kind = arg
                members = columns["__row_list"][g]
                row[o.name] = _sum_avg(agg, t, name, kind, members, text)
        out.append(row)
    return out


def _count_groups(m: TableMirror, positions: np.ndarray, info: Any, outputs: list[Any]) -> list[Row]:
    """``SELECT g, COUNT(*) … GROUP BY g``: counts of the column's dictionary codes (cached per column)."""
    col = m.column(info.path, info.timestamp)
    if col.kind not in GROUP_KINDS:
        raise Unsupported(f"GROUP BY over {col.kind} values")
    if col.codes is None:
        encoded = pc.dictionary_encode(col.values)
        col.codes = (encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64),
                     encoded.dictionary.to_pylist())
    codes, keys = col.codes
    picked = codes if len(positions) == len(m) else codes[positions]
    counts = np.bincount(picked + 1, minlength=len(keys) + 1)  # slot 0: NULL
    out: list[Row] = []
    for slot in np.flatnonzero(counts).tolist():
        value = None if slot == 0 else keys[slot - 1]
        out.append({o.name: int(counts[slot]) if o.agg is not None else value for o in outputs})
    return out


def _whole(t: pa.Table, specs: list[tuple[str, str, Any]]) -> pa.Table:
    """The one group of an aggregate without GROUP BY (even over no rows)."""
    out: dict[str, list[Any]] = {}
    for name, func, opts in specs:
        col = t.column(name)
        if func == "count":
            out[f"{name}_count"] = [pc.count(col, mode="all" if opts is COUNT_ALL else "only_valid").as_py()]
        elif func == "list":
            out[f"{name}_list"] = [col.to_pylist()]
        else:
            out[f"{name}_{func}"] = [getattr(pc, func)(col).as_py()]
    return pa.table({k: pa.array(v) if v != [None] else pa.nulls(1) for k, v in out.items()})


def _negative_zero(col: Column) -> bool:
    data = col.values.to_numpy(zero_copy_only=False)
    return bool(np.any((data == 0) & np.signbit(data)))


def _sum_avg(agg: AggSpec, t: pa.Table, name: str, kind: str, members: list[int], text: str) -> Any:
    values = t.column(name).take(pa.array(members, pa.int64())).to_pylist()
    if kind == "num":
        flags = t.column(f"{name}_isint").take(pa.array(members, pa.int64())).to_pylist()
        values = [int(v) if f and v is not None else v for v, f in zip(values, flags, strict=True)]
    present = [v for v in values if v is not None]
    if not present:
        return None
    return agg.total(present, text)
