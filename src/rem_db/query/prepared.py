"""A SELECT checked against its table's schema: output columns, grouping and ordering resolved to fields,
aggregates checked. Prepared once per (query text, schema object) and reused by every execution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..schema.model import TableSchema
from . import access as acc
from .aggregate import AggSpec
from .binder import FieldInfo, TableInfo, check_expr
from .plan import Aggregate, Column, Field, SelectPlan, Star
from .positions import error
from .predicates import Pred, getter


@dataclass
class Output:
    """One output column: its unique name and how it is computed."""

    name: str
    field: FieldInfo | None = None  # a plain field
    agg: AggSpec | None = None  # an aggregate
    hidden: bool = False  # computed for ORDER BY only

    def __post_init__(self) -> None:
        #: the field's value in a row (an aggregate's value is computed over a group: see ``agg``)
        self.get: Callable[[dict[str, Any]], Any] = getter(self.field.path) if self.field is not None else _none


def _none(row: dict[str, Any]) -> None:
    return None


@dataclass
class PreparedSelect:
    """A SELECT checked against one schema; reused while that schema object is current."""

    plan: SelectPlan
    table: TableInfo
    text: str
    star: bool
    outputs: list[Output]
    group: list[FieldInfo]
    order: list[tuple[Any, bool, bool]]  # (FieldInfo | output index, descending, nulls_first)
    static: bool  # no parameters: predicate and access tree are built once
    aggregated: bool = False
    _pred: Pred | None = None
    _access: acc.Node | None = None
    _analyzed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> TableSchema:
        return self.table.schema


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}_{seen[name]}"
            seen[candidate] = 0
            out.append(candidate)
        else:
            seen[name] = 0
            out.append(name)
    return out


def prepare(plan: SelectPlan, table: TableInfo, text: str, static: bool) -> PreparedSelect:
    """Check a SELECT against its table: fields, literal types, aggregate arguments."""
    outputs: list[Output] = []
    names = _unique([c.name for c in plan.columns if isinstance(c, Column)])
    it = iter(names)
    column_output: dict[int, int] = {}  # SELECT-list position -> output index (``*`` has none)
    for n, col in enumerate(plan.columns):
        if isinstance(col, Star):
            continue
        column_output[n] = len(outputs)
        name = next(it)
        if isinstance(col.expr, Field):
            outputs.append(Output(name, field=table.field(col.expr, text)))
        else:
            outputs.append(Output(name, agg=_agg(col.expr, name, table, text)))
    check_expr(plan.where, table, text)
    group = [table.field(f, text) for f in plan.group_by if isinstance(f, Field)]
    order: list[tuple[Any, bool, bool]] = []
    for key in plan.order_by:
        if isinstance(key.expr, int):
            target: Any = column_output[key.expr]
        elif isinstance(key.expr, Aggregate):
            target = _output_for(outputs, key.expr, table, text)
        elif plan.aggregated:
            target = _group_output(outputs, table.field(key.expr, text))
        else:
            target = table.field(key.expr, text)
        order.append((target, key.descending, key.nulls_first))
    star = any(isinstance(c, Star) for c in plan.columns)
    return PreparedSelect(plan, table, text, star, outputs, group, order, static, plan.aggregated)


def _agg(agg: Aggregate, name: str, table: TableInfo, text: str) -> AggSpec:
    info = table.field(agg.arg, text) if agg.arg is not None else None
    label = agg.name.upper() if agg.arg is None else f"{agg.func.upper()}({agg.arg.name})"
    if agg.func in ("sum", "avg") and info is not None and info.types is not None \
            and not info.types & {"number", "integer"}:
        raise error(f"{label} needs a numeric column: {info.name!r} is {info.describe_type()}", text, agg.pos)
    return AggSpec(agg.func, info.path if info else None, name, bool(info and info.timestamp), label)


def _output_for(outputs: list[Output], agg: Aggregate, table: TableInfo, text: str) -> int:
    """The output computing ``agg`` (an ORDER BY aggregate), added as a hidden one when not selected."""
    path = agg.arg.path if agg.arg is not None else None
    for i, o in enumerate(outputs):
        if o.agg is not None and o.agg.func == agg.func and o.agg.path == path:
            return i
    name = f"__order_{len(outputs)}"
    outputs.append(Output(name, agg=_agg(agg, name, table, text), hidden=True))
    return len(outputs) - 1


def _group_output(outputs: list[Output], info: FieldInfo) -> int:
    """The output showing group column ``info`` (an ORDER BY key), added as a hidden one when not selected."""
    for i, o in enumerate(outputs):
        if o.field is not None and o.field.path == info.path:
            return i
    outputs.append(Output(f"__order_{len(outputs)}", field=info, hidden=True))
    return len(outputs) - 1
