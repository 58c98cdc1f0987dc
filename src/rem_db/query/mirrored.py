"""Running a SELECT over the columnar mirror (:mod:`.mirror`, :mod:`.columnar`) instead of row by row.

The planner's choice stands for indexed reads: the mirror answers what would otherwise read the whole table
— a ``scan`` (a WHERE no index answers: ranges on plain fields, ``LIKE '%…%'``, aggregates) and a
``GROUP BY`` counted over index keys (``index-count`` without a WHERE) — on tables of at least
:data:`MIN_ROWS` rows. WHERE and aggregates are computed on Arrow arrays; the rows a plain SELECT returns
are then read by id, in id order (the order a scan yields them), and checked against the WHERE once more,
so a row is returned exactly as the row path returns it. Whatever the mirror cannot compute exactly
(:class:`~.columnar.Unsupported`) runs row by row, unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import columnar, mirror, scan
from .explain import render
from .ordering import sort_rows
from .planner import Choice

if TYPE_CHECKING:
    from .executor import SelectRun

MIN_ROWS = 2_000  # below this, a scan is cheap enough and a mirror not worth its memory


def applies(run: SelectRun, choice: Choice) -> bool:
    """Whether ``choice`` reads the whole table in a way the mirror can replace."""
    whole = choice.mode == "scan" or (choice.mode == "index-count" and choice.candidates is None
                                      and bool(run.prep.group))
    if not whole:
        return False
    return scan.table_count(run.entities, run.table.table, True) >= MIN_ROWS


def run(sel: SelectRun) -> list[dict[str, Any]] | None:
    """The SELECT's rows from the mirror, or ``None`` (run it row by row)."""
    prep, trace = sel.prep, sel.trace
    pred = sel.pred  # compiled first: a bad literal raises exactly as on the row path
    aggs = [o.agg for o in prep.outputs if o.agg is not None]
    try:
        keys = columnar.wanted(sel.table, sel.text, sel.where, prep.group if prep.aggregated else [], aggs)
        m = mirror.mirror_for(sel.entities, sel.table.table, keys)
        read = trace.step("columnar mirror", f"{len(m):,} rows, {len(m.columns)} columns ({m.state})", len(m),
                          len(m))
        positions = columnar.keep(m, sel.table, sel.text, sel.where, sel.include_deleted)
        trace.step("filter", lambda: "vectorised: " + (render(sel.where) or "(none)"), None, len(positions))
        if prep.aggregated:
            out = columnar.aggregate(m, positions, prep.group, prep.outputs, sel.text)
            trace.step("aggregate", sel._group_text, None, len(out))
            trace.access = "mirror"
            return sel._finish_aggregate(out)
    except columnar.Unsupported as exc:
        trace.step("columnar mirror", f"not used: {exc}", None, 0)
        return None
    trace.access = "mirror"
    need = None if sel.limit is None else sel.offset + sel.limit
    ids = [m.ids[p] for p in positions.tolist()]
    if not prep.order and need is not None:
        ids = ids[:need]
    rows = []
    table, include_deleted = sel.table.table, sel.include_deleted
    for row in scan.fetch(sel.entities, ids):  # re-checked: a commit after the mirror's is never missed out
        if row.get("entity_type") == table and (include_deleted or row.get("deleted_at") is None) \
                and pred(row) is True:
            rows.append(row)
    read["actual_rows"] = len(m)
    trace.step("fetch", f"{len(ids):,} rows by id", len(ids), len(rows))
    if prep.order:
        sort_rows(rows, sel._row_specs())
        trace.step("sort", sel._order_text, None, len(rows))
    return sel._cut_and_project(rows)
