"""Choosing how a SELECT reads its rows.

In order of preference:

1. ``count-table`` / ``index-count``: a query whose only aggregates are ``COUNT(*)`` — optionally grouped by
   one indexed scalar field — over no WHERE or a WHERE the index answers exactly, is counted from index
   keys without reading a single row.
2. ``index``: the WHERE has parts an index answers (``=``, ``IN``, ranges, ``BETWEEN``, ``IS [NOT] NULL``,
   ``LIKE 'prefix%'`` on indexed fields and the system timestamps; ``id =`` / ``id IN`` as point reads).
   ``AND`` intersects the parts' ids (cheapest first; a part with more ids than the running result is left
   to the filter), ``OR`` unions them (every branch must be indexed). Reading stops at a cap
   (20,000 ids, or a third of the table for big tables): past it the index is no better than a scan.
3. ``index-order``: ``ORDER BY <indexed scalar field> … LIMIT n`` without a small candidate set walks that
   field's index in order and stops once ``OFFSET + LIMIT`` rows (and their ties) passed the filter.
4. ``scan``: every row of the table, filtered.

Candidate rows are always re-checked against the whole WHERE, so an index only ever narrows the read.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..entities.engine import EntityEngine
from . import access as acc
from . import scan
from .binder import FieldInfo, TableInfo
from .plan import Expr
from .prepared import PreparedSelect

CAP = 20_000
ORDER_CANDIDATES = 2_000  # a candidate set this small (or 20x LIMIT) is sorted instead of walking an index


@dataclass(slots=True)
class Choice:
    """How a SELECT reads its rows: the access mode, the candidate ids an index gave (``None``: every row),
    the EXPLAIN detail, and the field an ``index-order`` walk follows."""

    mode: str  # "scan" | "index" | "index-order" | "index-count" | "count-table"
    candidates: set[bytes] | None = None
    detail: str = ""
    by_id: bool = False  # candidates come from id = / id IN (any table): check the row's table
    order_field: FieldInfo | None = None


def collect(entities: EntityEngine, table: TableInfo, tree: acc.Node | None, cap: float) -> acc.Collected | None:
    """Candidate ids of a WHERE's index parts, read up to ``cap`` (raised once, to a third of the table, for
    big tables when ``cap`` is :data:`CAP`)."""
    if tree is None:
        return None
    reader = acc.Reader(entities.fields, table)
    got = reader.collect(tree, cap)
    if got is None and cap == CAP:
        bigger = scan.table_count(entities, table.table) // 3
        if bigger > CAP:
            got = reader.collect(tree, bigger)
    return got


def describe(got: acc.Collected) -> str:
    text = got.detail
    if got.skipped:
        text += " (left to the filter: " + ", ".join(leaf.detail for leaf in got.skipped) + ")"
    return text


def _count_only(prep: PreparedSelect) -> bool:
    if len(prep.group) > 1:
        return False
    for o in prep.outputs:
        if o.agg is not None and not (o.agg.func == "count" and o.agg.get is None):
            return False
    if prep.group:
        info = prep.group[0]
        # Timestamps are left to the row path: a group shows the stored text of its instant, which
        # the index (microseconds) does not keep.
        return (info.indexed and info.scalar and not info.timestamp and len(info.path) == 1
                and info.path[0] not in ("entity_type", "id", "edges"))
    return True


def _order_field(prep: PreparedSelect, limit: int | None) -> FieldInfo | None:
    if not prep.order or limit is None or prep.aggregated:
        return None
    target = prep.order[0][0]
    if isinstance(target, int):
        target = prep.outputs[target].field
    if target is None or not target.indexed or not target.scalar or len(target.path) != 1:
        return None
    if target.path[0] in ("entity_type", "id", "edges"):
        return None
    return target


def choose(entities: EntityEngine, prep: PreparedSelect, where: Expr | None, tree: acc.Node | None,
           limit: int | None, offset: int) -> Choice:
    """How to read the rows of a SELECT whose bound WHERE is ``where`` (``tree``: its index access tree)."""
    table = prep.table
    if prep.aggregated and _count_only(prep):
        if where is None:
            return Choice("index-count" if prep.group else "count-table")
        if tree is not None and tree.exact:
            got = acc.Reader(entities.fields, table).collect(tree, acc.INF)
            if got is not None and got.complete:
                return Choice("index-count", got.ids, describe(got))
    order_field = _order_field(prep, limit)
    if order_field is not None:
        assert limit is not None
        small = max(ORDER_CANDIDATES, 20 * (offset + limit))
        got = collect(entities, table, tree, small)
        if got is None:
            return Choice("index-order", order_field=order_field)
    else:
        got = collect(entities, table, tree, CAP)
    if got is not None:
        return Choice("index", got.ids, describe(got), by_id=any(leaf.kind == "ids" for leaf in got.used))
    return Choice("scan")
