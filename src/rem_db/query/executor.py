"""Running a SELECT: choose how to read rows (see :mod:`.planner`), filter, group, sort, cut, project."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..entities.engine import EntityEngine
from ..index.fields import CF as FIELD_INDEX
from ..storage.codec import decode_value
from ..storage.keyspace import prefix_range
from . import access as acc
from . import mirrored, scan
from .aggregate import group_rows
from .binder import bind_count, check_expr, substitute
from .explain import Trace, render
from .ordering import SortSpec, sort_rows
from .plan import And, Expr, Star
from .planner import Choice, choose
from .predicates import Compiler, Pred, getter
from .prefilter import compile_prefilter
from .prepared import PreparedSelect
from .values import typed_key

Row = dict[str, Any]


class SelectRun:
    """One execution of a prepared SELECT with bound parameter values."""

    def __init__(self, entities: EntityEngine, prep: PreparedSelect, values: Mapping[int | str, Any],
                 include_deleted: bool, trace: Trace) -> None:
        self.entities = entities
        self.prep = prep
        self.table = prep.table
        self.text = prep.text
        self.include_deleted = include_deleted
        self.trace = trace
        trace.statement, trace.table = "select", self.table.table
        plan = prep.plan
        if prep.static:
            self.where: Expr | None = plan.where
        else:
            bound: list[Expr] = []
            self.where = substitute(plan.where, values, self.text, bound)
            if bound:  # the rest was checked when the plan was prepared
                check_expr(And(tuple(bound)), self.table, self.text)
        self._pred: Pred | None = None
        self.limit = bind_count(plan.limit, values, "LIMIT", self.text)
        self.offset = bind_count(plan.offset, values, "OFFSET", self.text) or 0

    @property
    def pred(self) -> Pred:
        """The compiled WHERE (once per prepared plan without parameters, else once per execution)."""
        if self._pred is None:
            prep = self.prep
            if prep.static:
                if prep._pred is None:
                    prep._pred = Compiler(self.table, self.text).compile(self.where)
                self._pred = prep._pred
            else:
                self._pred = Compiler(self.table, self.text).compile(self.where)
        return self._pred

    def prefilter(self) -> Callable[[bytes], bool] | None:
        """The byte-level pre-filter of a scan (built once per prepared plan without parameters)."""
        prep = self.prep
        if prep.static:
            if "prefilter" not in prep.extra:
                prep.extra["prefilter"] = compile_prefilter(self.where, self.table)
            return prep.extra["prefilter"]
        return compile_prefilter(self.where, self.table)

    def access_tree(self) -> acc.Node | None:
        prep = self.prep
        if prep.static:
            if not prep._analyzed:
                prep._access, prep._analyzed = acc.analyze(self.where, self.table), True
            return prep._access
        return acc.analyze(self.where, self.table)

    # -- entry -----------------------------------------------------------------------------------------
    def run(self) -> list[Row]:
        if self.limit == 0:
            self.trace.access = "none"
            self.trace.step("limit", "LIMIT 0: nothing to read", 0, 0)
            return []
        with scan.gc_paused():
            choice = choose(self.entities, self.prep, self.where, self.access_tree(), self.limit, self.offset)
            self.trace.access = choice.mode
            if mirrored.applies(self, choice):
                rows = mirrored.run(self)
                if rows is not None:
                    return rows
            if self.prep.aggregated:
                return self._aggregate(choice)
            if choice.mode == "index-order":
                return self._ordered(choice)
            return self._plain(choice)

    # -- reading ---------------------------------------------------------------------------------------
    def rows(self, choice: Choice) -> Iterator[Row]:
        """Rows that pass WHERE (and are not soft-deleted unless asked), from candidates or a scan."""
        pred, table, include_deleted = self.pred, self.table.table, self.include_deleted
        where = self.where

        def condition() -> str:
            return render(where) or "(none)"
        n_read = n_kept = 0
        if choice.candidates is None:  # the scan yields live rows of the table only
            stats = scan.ScanStats()
            source, estimate, how = scan.table_rows(self.entities, table, include_deleted, self.prefilter(), stats)
            read = self.trace.step("table scan", how, estimate, 0)
            filt = self.trace.step("filter", condition, None, 0)
            try:
                for row in source:
                    if pred(row) is True:
                        n_kept += 1
                        yield row
            finally:
                source.close()  # type: ignore[attr-defined]
                read["actual_rows"] = stats.seen
                if stats.decoded != stats.seen:
                    read["detail"] = f"{how} ({stats.decoded:,} decoded)"
                filt["actual_rows"] = n_kept
            return
        read = self.trace.step("index read", choice.detail, len(choice.candidates), 0)
        filt = self.trace.step("filter", condition, None, 0)
        check_table = choice.by_id
        try:
            for row in scan.fetch(self.entities, sorted(choice.candidates)):
                n_read += 1
                if check_table and row.get("entity_type") != table:
                    continue
                if not include_deleted and row.get("deleted_at") is not None:
                    continue
                if pred(row) is True:
                    n_kept += 1
                    yield row
        finally:
            read["actual_rows"] = n_read
            filt["actual_rows"] = n_kept

    def _plain(self, choice: Choice) -> list[Row]:
        prep = self.prep
        need = None if self.limit is None else self.offset + self.limit
        if prep.order:
            rows = list(self.rows(choice))
            sort_rows(rows, self._row_specs())
            self.trace.step("sort", self._order_text, None, len(rows))
        else:
            rows = []
            for row in self.rows(choice):
                rows.append(row)
                if need is not None and len(rows) >= need:
                    break
        return self._cut_and_project(rows)

    def _ordered(self, choice: Choice) -> list[Row]:
        """Walk the first ORDER BY field's index in order; stop once LIMIT + OFFSET rows (and their tie
        group on that field) have passed the filter."""
        info = choice.order_field
        assert info is not None and self.limit is not None
        first_desc, nulls_first = self.prep.order[0][1], self.prep.order[0][2]
        fields, schema, name = self.entities.fields, self.table.schema, info.name
        need = self.offset + self.limit
        single = len(self.prep.order) == 1

        def ordered_ids() -> Iterator[tuple[Any, bytes]]:
            if nulls_first:
                yield from ((None, i) for i in fields.equal(schema, name, None))
            yield from fields.range(schema, name, None, None, reverse=first_desc)
            if not nulls_first:
                yield from ((None, i) for i in fields.equal(schema, name, None))

        walk = self.trace.step("index order", f"{name} {'DESC' if first_desc else 'ASC'}"
                               f"{' NULLS FIRST' if nulls_first else ''}, stop after {need} rows", need, 0)
        filt = self.trace.step("filter", lambda: render(self.where) or "(none)", None, 0)
        out: list[Row] = []
        boundary: Any = ...
        walked = 0
        pairs = ordered_ids()
        chunk_size = min(scan.CHUNK, max(8, need * 2))
        done = False
        while not done:
            chunk = [p for _, p in zip(range(chunk_size), pairs, strict=False)]
            if not chunk:
                break
            chunk_size = min(scan.CHUNK, chunk_size * 2)
            if choice.candidates is not None:
                chunk = [p for p in chunk if p[1] in choice.candidates]
            if self.entities.hidden:  # rows of an unfinished ingest (entities/hidden.py)
                chunk = [p for p in chunk if p[1] not in self.entities.hidden]
            walked += len(chunk)
            rows = self.entities.get_many([i for _, i in chunk])
            for (value, _), row in zip(chunk, rows, strict=True):
                if row is None or (not self.include_deleted and row.get("deleted_at") is not None):
                    continue
                if self.pred(row) is not True:
                    continue
                key = typed_key(value, info.timestamp)
                if len(out) >= need and (single or key != boundary):
                    done = True
                    break
                out.append(row)
                if len(out) == need:
                    boundary = key
        walk["actual_rows"] = walked
        filt["actual_rows"] = len(out)
        if not single:
            sort_rows(out, self._row_specs())
        return self._cut_and_project(out)

    def _cut_and_project(self, rows: list[Row]) -> list[Row]:
        start = self.offset
        end = None if self.limit is None else start + self.limit
        if start or end is not None:
            rows = rows[start:end]
            self.trace.step("limit", f"OFFSET {start}" + (f" LIMIT {self.limit}" if self.limit is not None else ""),
                            None, len(rows))
        return [self._project(r) for r in rows] if not self._star_only() else rows

    def _star_only(self) -> bool:
        return self.prep.star and not self.prep.outputs

    def _project(self, row: Row) -> Row:
        out: Row = {}
        outputs = iter(self.prep.outputs)
        for col in self.prep.plan.columns:
            if isinstance(col, Star):
                out.update(row)
            else:
                o = next(outputs)
                out[o.name] = o.get(row)
        return out

    def _row_specs(self) -> list[SortSpec]:
        specs = []
        for target, desc, nulls_first in self.prep.order:
            if isinstance(target, int):
                o = self.prep.outputs[target]
                assert o.field is not None
                info = o.field
            else:
                info = target
            specs.append(SortSpec(getter(info.path), info.timestamp, desc, nulls_first))
        return specs

    def _order_text(self) -> str:
        parts = []
        for target, desc, nulls_first in self.prep.order:
            name = self.prep.outputs[target].name if isinstance(target, int) else target.name
            parts.append(f"{name} {'DESC' if desc else 'ASC'}{' NULLS FIRST' if nulls_first else ''}")
        return ", ".join(parts)

    # -- aggregation -----------------------------------------------------------------------------------
    def _aggregate(self, choice: Choice) -> list[Row]:
        prep = self.prep
        if choice.mode in ("index-count", "count-table"):
            out = self._count_from_index(choice)
        else:
            keys = [(getter(g.path), g.timestamp) for g in prep.group]
            rows = self.rows(choice)
            groups = group_rows(rows, keys) if keys else {(): list(rows)}
            out = []
            for members in groups.values():
                first = members[0] if members else {}
                result: Row = {}
                for o in prep.outputs:
                    if o.agg is not None:
                        result[o.name] = o.agg.compute(members, self.text)
                    else:
                        result[o.name] = o.get(first)
                out.append(result)
            self.trace.step("aggregate", self._group_text, None, len(out))
        return self._finish_aggregate(out)

    def _group_text(self) -> str:
        aggs = ", ".join(o.agg.label for o in self.prep.outputs if o.agg is not None)
        group = ", ".join(g.name for g in self.prep.group)
        return aggs + (f" GROUP BY {group}" if group else "")

    def _finish_aggregate(self, out: list[Row]) -> list[Row]:
        prep = self.prep
        if prep.order:
            specs = []
            for target, desc, nulls_first in prep.order:
                o = prep.outputs[target]
                ts = (o.field.timestamp if o.field is not None else
                      bool(o.agg and o.agg.timestamp and o.agg.func in ("min", "max")))
                specs.append(SortSpec(_key_getter(o.name), ts, desc, nulls_first))
            sort_rows(out, specs)
            self.trace.step("sort", self._order_text, None, len(out))
        start = self.offset
        end = None if self.limit is None else start + self.limit
        if start or end is not None:
            out = out[start:end]
            self.trace.step("limit", f"OFFSET {start}" + (f" LIMIT {self.limit}" if self.limit is not None else ""),
                            None, len(out))
        hidden = [o.name for o in prep.outputs if o.hidden]
        if hidden:
            for row in out:
                for name in hidden:
                    row.pop(name, None)
        return out

    def _count_from_index(self, choice: Choice) -> list[Row]:
        """COUNT(*) [GROUP BY indexed field] from index keys alone, without reading rows."""
        prep, fields, table = self.prep, self.entities.fields, self.table.table
        deleted = set() if self.include_deleted else scan.deleted_ids(self.entities, table)
        if self.entities.hidden:  # rows of an unfinished ingest (entities/hidden.py)
            deleted |= self.entities.hidden.ids()
        cands = choice.candidates
        if not prep.group:
            if cands is None:
                n = scan.table_count(self.entities, table, self.include_deleted)
                self.trace.step("index count", f"rows of {table}", n, n)
            else:
                n = len(cands - deleted) if deleted else len(cands)
                self.trace.step("index count", choice.detail, len(cands), n)
            return [{o.name: n for o in prep.outputs}]
        info = prep.group[0]
        prefix = fields.ks.field_prefix(table, info.name)
        counts: dict[bytes, int] = {}
        start = len(prefix)
        keys_read = 0
        for key in fields.store.scan_keys(FIELD_INDEX, *prefix_range(prefix)):
            keys_read += 1
            id16 = key[-16:]
            if cands is not None and id16 not in cands:
                continue
            if deleted and id16 in deleted:
                continue
            encoded = key[start:-16]
            counts[encoded] = counts.get(encoded, 0) + 1
        self.trace.step("index count", f"group by {info.name} over its index keys"
                        + (f", {choice.detail}" if cands is not None else ""), keys_read, sum(counts.values()))
        out = []
        for encoded, n in counts.items():
            value = decode_value(encoded, 0)[0]
            row: Row = {}
            for o in prep.outputs:
                row[o.name] = n if o.agg is not None else value
            out.append(row)
        return out


def _key_getter(name: str) -> Callable[[Row], Any]:
    return lambda row: row.get(name)
