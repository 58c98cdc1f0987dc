"""Index access paths: which parts of a WHERE clause an index can answer, and reading their row ids.

:func:`analyze` maps a (bound) WHERE expression to a tree of :class:`Leaf` / :class:`Intersect` /
:class:`Union` nodes. A node's ids are always a superset of the rows the predicate keeps (the executor
re-checks every candidate row), and ``exact`` marks nodes whose ids are exactly those rows, so a
``COUNT(*)`` can be answered from index keys alone.

Leaves read the field index through :class:`~rem_db.index.fields.FieldIndex` (``equal`` / ``range``) and
the ``id`` column as point reads. :func:`collect` reads a node's ids up to a cap, so an unselective
predicate costs a bounded number of key reads before the planner gives up on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..index.fields import FieldIndex
from .binder import FieldInfo, TableInfo
from .plan import And, Between, Compare, Const, Expr, Field, InList, IsNull, Like, Not, Or
from .predicates import like_prefix
from .values import describe

INF = float("inf")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


@dataclass(slots=True)
class Leaf:
    """One index read: equality on some values, a range, or known ids."""

    field: str
    kind: str  # "eq" | "range" | "ids"
    detail: str
    exact: bool
    prior: int  # cheaper first
    values: tuple[Any, ...] = ()
    lo: Any = None
    hi: Any = None
    lo_inc: bool = True
    hi_inc: bool = True
    ids: tuple[bytes, ...] = ()


@dataclass(slots=True)
class Intersect:
    items: list[Node]
    exact: bool


@dataclass(slots=True)
class Union:
    items: list[Node]
    exact: bool


Node = Leaf | Intersect | Union


def _id_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value).bytes
    except ValueError:
        return None


def _indexable(info: FieldInfo) -> bool:
    return info.indexed and len(info.path) == 1 and info.path[0] not in ("entity_type", "edges")


def _exact(info: FieldInfo, *values: Any) -> bool:
    """Index entries equal the predicate's answer: a scalar field and literals of its declared types."""
    if not info.scalar:
        return False
    for v in values:
        if v is None:
            continue
        kind = "boolean" if isinstance(v, bool) else ("number" if isinstance(v, int | float) else "string")
        allowed = info.types or frozenset()
        if kind == "number" and not allowed & {"number", "integer"}:
            return False
        if kind != "number" and kind not in allowed:
            return False
    return True


def _leaf(expr: Expr, table: TableInfo) -> Node | None:
    if isinstance(expr, Compare):
        left, right, op = expr.left, expr.right, expr.op
        if isinstance(left, Const) and isinstance(right, Field):
            left, right, op = right, left, _FLIP.get(op, op)
        if not (isinstance(left, Field) and isinstance(right, Const)) or right.value is None or op == "!=":
            return None
        info = table.field(left)
        value = right.value
        if info.path == ("entity_type",) and op == "=":  # every row of the table has the table's name
            return None if value == table.table else Leaf("entity_type", "ids", f"entity_type = {describe(value)}",
                                                          True, 0)
        if info.path == ("id",) and op == "=":  # ids are global: the fetched row's table is checked
            found = _id_bytes(value)
            return Leaf("id", "ids", f"id = {describe(value)}", False, 0, ids=(found,) if found else ())
        if not _indexable(info) or isinstance(value, list | dict | tuple):
            return None
        if isinstance(value, bool) and op != "=":  # false and true are two index types: no range spans both
            return None
        detail = f"{info.name} {op} {describe(value)}"
        if op == "=":
            return Leaf(info.name, "eq", detail, _exact(info, value), 1, values=(value,))
        lo = value if op in (">", ">=") else None
        hi = value if op in ("<", "<=") else None
        return Leaf(info.name, "range", detail, _exact(info, value), 3, lo=lo, hi=hi,
                    lo_inc=op == ">=", hi_inc=op == "<=")
    if isinstance(expr, InList) and isinstance(expr.expr, Field):
        info = table.field(expr.expr)
        values = tuple(dict.fromkeys(i.value for i in expr.items if isinstance(i, Const) and i.value is not None))
        detail = f"{info.name} IN ({len(expr.items)} values)"
        if info.path == ("id",):
            ids = tuple(dict.fromkeys(b for b in (_id_bytes(v) for v in values) if b))
            return Leaf("id", "ids", detail, False, 0, ids=ids)
        if info.path == ("entity_type",):
            return None if table.table in values else Leaf("entity_type", "ids", detail, True, 0)
        if not _indexable(info) or any(isinstance(v, list | dict | tuple) for v in values):
            return None
        return Leaf(info.name, "eq", detail, _exact(info, *values), 1, values=values)
    if isinstance(expr, Between) and isinstance(expr.expr, Field):
        info = table.field(expr.expr)
        if not (isinstance(expr.low, Const) and isinstance(expr.high, Const)) or not _indexable(info):
            return None
        lo, hi = expr.low.value, expr.high.value
        if lo is None or hi is None or isinstance(lo, bool) or isinstance(hi, bool):
            return None
        detail = f"{info.name} BETWEEN {describe(lo)} AND {describe(hi)}"
        return Leaf(info.name, "range", detail, _exact(info, lo, hi), 2, lo=lo, hi=hi)
    if isinstance(expr, IsNull) and isinstance(expr.expr, Field):
        info = table.field(expr.expr)
        if not _indexable(info):
            return None
        return Leaf(info.name, "eq", f"{info.name} IS NULL", info.scalar, 1, values=(None,))
    if isinstance(expr, Not) and isinstance(expr.item, IsNull) and isinstance(expr.item.expr, Field):
        info = table.field(expr.item.expr)
        if not _indexable(info) or not info.scalar:  # [] is indexed as null but IS NOT NULL
            return None
        return Leaf(info.name, "range", f"{info.name} IS NOT NULL", True, 4)
    if isinstance(expr, Like) and not expr.insensitive and isinstance(expr.expr, Field) \
            and isinstance(expr.pattern, Const) and isinstance(expr.pattern.value, str):
        info = table.field(expr.expr)
        if not _indexable(info) or info.timestamp:
            return None
        prefix = like_prefix(expr.pattern.value, expr.escape)
        upper = _next_string(prefix) if prefix else None
        if prefix is None or upper is None:
            return None
        return Leaf(info.name, "range", f"{info.name} LIKE {describe(expr.pattern.value)} (prefix range)", False, 2,
                    lo=prefix, hi=upper, lo_inc=True, hi_inc=False)
    return None


def _next_string(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix``."""
    code = ord(prefix[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    if code > 0x10FFFF:
        return None
    return prefix[:-1] + chr(code)


def analyze(expr: Expr | None, table: TableInfo) -> Node | None:
    """The index access tree of a WHERE expression, or ``None`` when no index applies."""
    if expr is None:
        return None
    if isinstance(expr, And):
        found = [n for n in (analyze(e, table) for e in expr.items) if n is not None]
        if not found:
            return None
        exact = len(found) == len(expr.items) and all(n.exact for n in found)
        return found[0] if len(found) == 1 and len(expr.items) == 1 else Intersect(found, exact)
    if isinstance(expr, Or):
        parts = [analyze(e, table) for e in expr.items]
        if any(p is None for p in parts):
            return None
        items = [p for p in parts if p is not None]
        return Union(items, all(p.exact for p in items))
    return _leaf(expr, table)


def prior(node: Node) -> int:
    if isinstance(node, Leaf):
        return node.prior
    if isinstance(node, Intersect):
        return min(prior(n) for n in node.items)
    return max(prior(n) for n in node.items) + 1


def describe_node(node: Node) -> str:
    if isinstance(node, Leaf):
        return node.detail
    joiner = " AND " if isinstance(node, Intersect) else " OR "
    return "(" + joiner.join(describe_node(n) for n in node.items) + ")"


@dataclass(slots=True)
class Collected:
    """Ids read for a node, and what was used (for EXPLAIN and for exact counts)."""

    ids: set[bytes]
    detail: str = ""  # the part of the condition the ids answer, as SQL
    used: list[Leaf] = field(default_factory=list)
    skipped: list[Leaf] = field(default_factory=list)
    complete: bool = True  # every leaf of the node was read (no part left to the filter)


def leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    return [leaf for n in node.items for leaf in leaves(n)]


class Reader:
    """Reads the ids of access nodes for one table."""

    def __init__(self, fields: FieldIndex, table: TableInfo) -> None:
        self.fields = fields
        self.schema = table.schema
        self.keys_read = 0

    def collect(self, node: Node, cap: float) -> Collected | None:
        """The node's ids, or ``None`` if there are more than ``cap`` (or no part could be read)."""
        if isinstance(node, Leaf):
            ids = self._leaf(node, cap)
            return None if ids is None else Collected(ids, node.detail, [node])
        if isinstance(node, Union):
            out = Collected(set())
            parts = []
            for item in node.items:
                got = self.collect(item, cap - len(out.ids))
                if got is None:
                    return None
                out.ids |= got.ids
                out.used += got.used
                out.complete = out.complete and got.complete
                parts.append(f"({got.detail})" if " AND " in got.detail else got.detail)
            out.detail = " OR ".join(parts)
            return out
        result: Collected | None = None
        skipped: list[Leaf] = []
        for item in sorted(node.items, key=prior):
            # Reading a key costs about half of fetching a row: a part is worth reading while it is no
            # bigger than the running result (then it can save more row fetches than it costs).
            limit = cap if result is None else min(cap, max(len(result.ids), 1000))
            if result is not None and not result.ids:
                skipped += leaves(item)
                continue
            got = self.collect(item, limit)
            if got is None:
                skipped += leaves(item)
                continue
            if result is None:
                result = got
            else:
                result.ids &= got.ids
                result.used += got.used
                result.complete = result.complete and got.complete
                result.detail = " AND ".join(f"({d})" if " OR " in d else d for d in (result.detail, got.detail))
        if result is not None:
            result.skipped = skipped
            result.complete = result.complete and not skipped
        return result

    def _leaf(self, leaf: Leaf, cap: float) -> set[bytes] | None:
        if leaf.kind == "ids":
            return set(leaf.ids)
        out: set[bytes] = set()
        if leaf.kind == "eq":
            for value in leaf.values:
                ids = self.fields.equal(self.schema, leaf.field, value)
                self.keys_read += len(ids)
                out.update(ids)
                if len(out) > cap:
                    return None
            return out
        add = out.add
        n = 0
        for id16 in self.fields.range_ids(self.schema, leaf.field, leaf.lo, leaf.hi, leaf.lo_inc, leaf.hi_inc):
            add(id16)
            n += 1
            if n > cap:
                self.keys_read += n
                return None
        self.keys_read += n
        return out


def probe(fields: FieldIndex, table: TableInfo, tree: Node | None) -> Callable[[list[bytes]], list[bool]] | None:
    """For a WHERE the indexes answer exactly that is one equality, or an AND of equalities, each on one
    value: a test of which of some ids match, by point reads of their index entries. ``None`` for any
    other WHERE (ranges, OR, IN lists, parts left to the row filter)."""
    if tree is None or not tree.exact:
        return None
    items = [tree] if isinstance(tree, Leaf) else tree.items if isinstance(tree, Intersect) else []
    leaves_ = [item for item in items if isinstance(item, Leaf) and item.kind == "eq" and len(item.values) == 1]
    if not leaves_ or len(leaves_) != len(items):
        return None
    schema = table.schema

    def matching(ids: list[bytes]) -> list[bool]:
        ok = [True] * len(ids)
        for leaf in leaves_:
            ok = [a and b for a, b in zip(ok, fields.holding(schema, leaf.field, leaf.values[0], ids), strict=True)]
        return ok

    return matching
