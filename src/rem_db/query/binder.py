"""Checking a plan against its table's schema, and binding parameter values into it.

* Fields: the first segment of a path must be a system field, a declared property, or — unless the schema
  sets ``additional_properties: false`` — an undeclared field that some row of the table has had (the entity
  engine records field names as rows are written: ``entities/field_names.py``). A name no row ever had is an
  unknown column (a typo, most likely), so a misspelt filter is an error rather than an empty result. A
  field that one row lacks is NULL there.
* Literals: a comparison between a field and a literal of a type the field cannot hold (``price = 'abc'``
  on a number, ``created_at > 'yesterday'``) is an error, not a silent "no rows".
* Parameters are bound as values (:func:`substitute`): never pasted into query text.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import enum
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ..index.fields import indexed_fields
from ..schema.model import SYSTEM_TIMESTAMPS, TableSchema
from ..schema.types import FieldType, extra_field_type, field_type
from ..storage.codec import INT_MAX, INT_MIN, surrogate_name, unencodable_at
from .lexical import placeholders
from .plan import (
    And,
    Between,
    Compare,
    Const,
    Expr,
    Field,
    InList,
    IsNull,
    Like,
    Not,
    Operand,
    Or,
    Param,
    Parsed,
    Truth,
)
from .positions import error
from .values import describe, literal_class, ts_micros

SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean", "null"})
_SYSTEM_TYPES = {
    "id": frozenset({"string"}),
    "entity_type": frozenset({"string"}),
    "created_at": frozenset({"string"}),
    "modified_at": frozenset({"string"}),
    "deleted_at": frozenset({"string", "null"}),
    "edges": frozenset({"array"}),
}
_TYPE_WORDS = {"string": "a string", "number": "a number", "integer": "an integer", "boolean": "a boolean",
               "null": "null", "array": "a list", "object": "an object"}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the schema says about one field path."""

    path: tuple[str, ...]
    timestamp: bool = False
    types: frozenset[str] | None = None  # JSON types it may hold; None: anything
    items: frozenset[str] | None = None  # element types of a list field
    indexed: bool = False  # has field-index entries (top-level indexed or system field)
    system: bool = False

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def scalar(self) -> bool:
        """Declared to hold only scalars: one index entry per row, index order = sort order."""
        return self.types is not None and bool(self.types) and self.types <= SCALAR_TYPES

    def describe_type(self) -> str:
        if self.timestamp:
            return "a timestamp"
        names = sorted(t for t in (self.types or ()) if t != "null")
        if names == ["integer", "number"]:
            names = ["number"]
        return " or ".join(_TYPE_WORDS.get(t, t) for t in names) or "null"


class SeenFields(Protocol):
    """Which top-level fields a table's rows have had (``EntityEngine.field_names``)."""

    def seen(self, table: str, name: str) -> bool: ...

    def names(self, table: str, limit: int = 1000) -> list[str] | None: ...


#: Undeclared names a table lists in "did you mean" hints.
_HINT_NAMES = 1000


class TableInfo:
    """A table's schema as the query engine sees it: field types, timestamps, indexes."""

    def __init__(self, schema: TableSchema, fields_seen: SeenFields | None = None) -> None:
        """``fields_seen`` tells which undeclared names rows have had; without it, any undeclared name of a
        table that allows them is accepted (and reads NULL where absent)."""
        self.schema = schema
        self.table = schema.short_name
        self.raw = schema.json_schema
        self.props = schema.properties if isinstance(schema.properties, dict) else {}
        self.open = schema.additional_properties
        self.indexed = frozenset(indexed_fields(schema))
        self._seen = fields_seen
        self._fields: dict[tuple[str, ...], FieldInfo] = {}

    def field(self, f: Field, text: str | None = None) -> FieldInfo:
        info = self._fields.get(f.path)
        if info is None:
            info = self._fields[f.path] = self._field(f, text)
        return info

    def _field(self, f: Field, text: str | None) -> FieldInfo:
        head = f.path[0]
        single = len(f.path) == 1
        if head in _SYSTEM_TYPES:
            if not single:
                return FieldInfo(f.path, system=True)
            return FieldInfo(f.path, timestamp=head in SYSTEM_TIMESTAMPS, types=_SYSTEM_TYPES[head],
                             items=frozenset({"object"}) if head == "edges" else None,
                             indexed=head in self.indexed, system=True)
        if head not in self.props:
            if self.open and (self._seen is None or self._seen.seen(self.table, head)):
                return self._typed(f.path, _undeclared_type(self.raw, f.path), single)
            raise self._unknown(head, text, f.pos)
        return self._typed(f.path, field_type(self.raw, f.path), single)

    def _typed(self, path: tuple[str, ...], ft: FieldType | None, single: bool) -> FieldInfo:
        if ft is None:  # a nested path the schema does not declare
            return FieldInfo(path)
        types = ft.json_types
        items = ft.items.json_types if types is not None and "array" in types and ft.items is not None else None
        return FieldInfo(path, timestamp=single and ft.is_datetime, types=types, items=items,
                         indexed=single and path[0] in self.indexed)

    def _unknown(self, head: str, text: str | None, pos: int) -> Exception:
        """``unknown column``, with the closest known name (or the columns) and, in a table that allows
        undeclared fields, why the name is not one of them."""
        known = [*self.props, *_SYSTEM_TYPES]
        if self.open:
            seen = self._seen.names(self.table, _HINT_NAMES) if self._seen is not None else None
            known += [n for n in seen or () if n not in known]
            why = "no row of the table has had a field of that name"
        else:
            why = "the schema sets additional_properties: false"
        close = difflib.get_close_matches(head, known, n=1)
        hint = f"; did you mean {close[0]!r}? ({why})" if close else f" (columns: {', '.join(known[:50])}; {why})"
        return error(f"unknown column {head!r} in table {self.table!r}{hint}", text, pos)


def _undeclared_type(raw: Mapping[str, Any], path: tuple[str, ...]) -> FieldType | None:
    """The type of an undeclared field (``additionalProperties`` as a schema), or of a path below it."""
    found: FieldType | None = extra_field_type(raw)
    for part in path[1:]:
        found = found.properties.get(part) if found is not None else None
    return found


# -- literal checks ----------------------------------------------------------------------------------
def _accepts(types: frozenset[str], kind: str) -> bool:
    if kind == "number":
        return bool(types & {"number", "integer"})
    return kind in types


def check_literal(info: FieldInfo, value: Any, text: str | None, pos: int) -> None:
    """Refuse a literal the field can never equal (wrong type, or a non-timestamp for a timestamp)."""
    if value is None or info.types is None:
        return
    kind = literal_class(value)
    if kind in ("list", "object"):
        raise error(f"a {kind} value cannot be compared with {info.name!r}", text, pos)
    ok = _accepts(info.types, kind)
    if not ok and "array" in info.types:
        ok = info.items is None or _accepts(info.items, kind)
    if not ok:
        raise error(f"type mismatch: {info.name!r} is {info.describe_type()}, but {describe(value)} is "
                    f"{_TYPE_WORDS.get(kind, kind)}", text, pos)
    if info.timestamp and kind == "string" and ts_micros(value) is None:
        raise error(f"{describe(value)} is not an ISO-8601 timestamp ({info.name!r} is a timestamp; write e.g. "
                    f"'2025-01-31' or '2025-01-31T12:00:00Z')", text, pos)


def check_expr(expr: Expr | None, table: TableInfo, text: str | None) -> None:
    """Check the fields and literals of a WHERE expression against the table (iteratively)."""
    stack: list[Any] = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, Compare):
            _pair(node.left, node.right, table, text)
            _pair(node.right, node.left, table, text)
        elif isinstance(node, InList):
            for item in node.items:
                _pair(node.expr, item, table, text)
        elif isinstance(node, Between):
            _pair(node.expr, node.low, table, text)
            _pair(node.expr, node.high, table, text)
        elif isinstance(node, Like):
            _check_like(node, table, text)
        elif isinstance(node, IsNull):
            if isinstance(node.expr, Field):
                table.field(node.expr, text)
        elif isinstance(node, Truth):
            _check_truth(node, table, text)


def _pair(a: Operand, b: Operand, table: TableInfo, text: str | None) -> None:
    if isinstance(a, Field):
        info = table.field(a, text)
        if isinstance(b, Const):
            check_literal(info, b.value, text, b.pos)


def _check_like(node: Like, table: TableInfo, text: str | None) -> None:
    op = "ILIKE" if node.insensitive else "LIKE"
    if isinstance(node.pattern, Const) and not isinstance(node.pattern.value, str | None):
        raise error(f"the {op} pattern must be a string, got {describe(node.pattern.value)}", text,
                    node.pattern.pos)
    if isinstance(node.expr, Field):
        info = table.field(node.expr, text)
        types = info.types
        if types is not None and "array" in types and info.items is not None:
            types = types | info.items
        if types is not None and "string" not in types:
            raise error(f"{op} needs a string column: {info.name!r} is {info.describe_type()}", text, node.pos)
    elif isinstance(node.expr, Const) and not isinstance(node.expr.value, str | None):
        raise error(f"{op} needs a string, got {describe(node.expr.value)}", text, node.pos)


def _check_truth(node: Truth, table: TableInfo, text: str | None) -> None:
    if isinstance(node.expr, Field):
        info = table.field(node.expr, text)
        if info.types is not None and "boolean" not in info.types:
            raise error(f"{info.name!r} is {info.describe_type()}, not a condition (compare it, e.g. "
                        f"{info.name} = …)", text, node.pos)
    elif isinstance(node.expr, Const) and not isinstance(node.expr.value, bool | None):
        raise error(f"{describe(node.expr.value)} is not a condition", text, node.pos)


# -- parameters --------------------------------------------------------------------------------------
def param_values(parsed: Parsed, params: Any) -> dict[int | str, Any]:
    """Check ``params`` against the parameters the query uses; returns key -> raw value."""
    values = _param_values(parsed, params)
    for key, value in values.items():
        problem = _unstorable(value)
        if problem is not None:
            qmarks, named = placeholders(parsed.text)
            pos = (qmarks[key] if key < len(qmarks) else -1) if isinstance(key, int) else named.get(key, -1)
            label = f"?{key + 1}" if isinstance(key, int) else f":{key}"
            raise error(f"parameter {label} {problem}", parsed.text, pos)
    return values


def _param_values(parsed: Parsed, params: Any) -> dict[int | str, Any]:
    text = parsed.text
    if parsed.positional:
        if (params.__class__ is list or params.__class__ is tuple) and len(params) == parsed.positional:
            return dict(enumerate(params))  # the common case, without the ABC checks below
        if params is None or isinstance(params, str | bytes | Mapping) or not isinstance(params, Sequence):
            got = "none" if params is None else type(params).__name__
            raise error(f"the query has {parsed.positional} ? parameter(s): pass their values as a list "
                        f"(got {got})", text)
        if len(params) != parsed.positional:
            raise error(f"the query has {parsed.positional} ? parameter(s) but {len(params)} value(s) were "
                        f"given", text)
        return dict(enumerate(params))
    if parsed.named:
        if not isinstance(params, Mapping):
            got = "none" if params is None else type(params).__name__
            raise error(f"the query has :name parameters ({', '.join(parsed.named)}): pass a mapping "
                        f"(got {got})", text)
        missing = [n for n in parsed.named if n not in params]
        if missing:
            raise error(f"no value for parameter :{missing[0]}", text)
        extra = [k for k in params if k not in parsed.named]
        if extra:
            raise error(f"parameter {extra[0]!r} is not used by the query (its parameters: "
                        f"{', '.join(':' + n for n in parsed.named)})", text)
        return {n: params[n] for n in parsed.named}
    if params is not None and (isinstance(params, str | bytes) or not isinstance(params, Sequence | Mapping)):
        raise error(f"params must be a list (for ? parameters) or a mapping (for :name parameters), not "
                    f"{type(params).__name__}", text)
    if params:
        raise error(f"the query has no parameters but {len(params)} value(s) were given", text)
    return {}


def _unstorable(value: Any) -> str | None:
    """Why a parameter value can equal no stored value and cannot be encoded (an integer beyond 64 bits, a
    string with a lone surrogate), or ``None``. Lists (bound by ``IN ?``) are checked item by item."""
    cls = value.__class__
    if cls is int or (isinstance(value, int) and cls is not bool):
        if not INT_MIN <= value <= INT_MAX:
            return f"is {value}, outside the 64-bit range of stored integers ({INT_MIN} to {INT_MAX})"
        return None
    if isinstance(value, str):
        pos = unencodable_at(value)
        return None if pos < 0 else (f"is not valid Unicode text ({surrogate_name(value[pos])} at position {pos} "
                                     f"of the string)")
    if isinstance(value, enum.Enum):
        return _unstorable(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        for n, item in enumerate(value):
            problem = _unstorable(item)
            if problem is not None:
                return f"has item {n} that {problem}"
    return None


def plain_value(value: Any, label: str, text: str | None, pos: int, allow_list: bool = False) -> Any:
    """A parameter value as a JSON scalar (dates -> ISO text, UUIDs -> text, enums -> their value)."""
    cls = value.__class__
    if value is None or cls is str or cls is bool or cls is int:
        return value
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise error(f"parameter {label} is {value}: only finite numbers can be compared", text, pos)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise error(f"parameter {label} is {value}: only finite numbers can be compared", text, pos)
        return plain_value(float(value), label, text, pos)
    if isinstance(value, enum.Enum):
        return plain_value(value.value, label, text, pos, allow_list)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset) and allow_list:
        return tuple(plain_value(v, label, text, pos) for v in value)
    if isinstance(value, list | tuple | set | frozenset):
        raise error(f"parameter {label} is a list: a list can only be bound as the values of IN (… IN ?)",
                    text, pos)
    raise error(f"parameter {label} has type {type(value).__name__}, which cannot be bound (use a string, "
                f"number, boolean, None, date/datetime or UUID)", text, pos)


def bind_operand(op: Any, values: Mapping[int | str, Any], text: str | None, allow_list: bool = False) -> Any:
    if type(op) is Param:
        value = values[op.key]
        cls = value.__class__
        if not (value is None or cls is str or cls is bool or cls is int):  # the common cases need no work
            value = plain_value(value, op.label, text, op.pos, allow_list)
        return Const(value, op.pos)
    return op


_OPERANDS: dict[type, Any] = {
    Compare: lambda e: (e.left, e.right),
    InList: lambda e: (e.expr, *e.items),
    Between: lambda e: (e.expr, e.low, e.high),
    Like: lambda e: (e.expr, e.pattern),
    IsNull: lambda e: (e.expr,),
    Truth: lambda e: (e.expr,),
}


def substitute(expr: Expr | None, values: Mapping[int | str, Any], text: str | None,
               bound: list[Expr] | None = None) -> Expr | None:
    """The expression with every parameter replaced by its value (a list parameter expands an IN list).

    Parts without parameters are returned as they are; the conditions that had parameters are appended
    to ``bound`` (the only ones whose literals still need checking against the schema)."""
    if expr is None:
        return None
    node: Any = expr  # one of the Expr classes, dispatched on its exact type below
    kind = type(node)
    out: Expr
    if kind is Compare:  # the most common condition, handled without the generic machinery below
        left, right = node.left, node.right
        lp, rp = type(left) is Param, type(right) is Param
        if not (lp or rp):
            return expr
        out = Compare(node.op, bind_operand(left, values, text) if lp else left,
                      bind_operand(right, values, text) if rp else right, node.pos)
        if bound is not None:
            bound.append(out)
        return out
    if kind is And or kind is Or:
        old = node.items
        items = [substitute(e, values, text, bound) for e in old]
        for a, b in zip(items, old, strict=True):
            if a is not b:
                return kind(tuple(items))
        return expr
    if kind is Not:
        item = substitute(node.item, values, text, bound)
        return expr if item is node.item else Not(item)  # type: ignore[arg-type]
    operands = _OPERANDS[kind](node)
    for o in operands:
        if type(o) is Param:
            break
    else:
        return expr
    if kind is InList:
        items_: list[Operand] = []
        for item in node.items:
            value = bind_operand(item, values, text, allow_list=True)
            if isinstance(value, Const) and isinstance(value.value, tuple):
                items_.extend(Const(v, value.pos) for v in value.value)
            else:
                items_.append(value)
        out = InList(bind_operand(node.expr, values, text), tuple(items_), node.pos)
    else:
        new = [bind_operand(o, values, text) for o in operands]
        if kind is Compare:
            out = Compare(node.op, new[0], new[1], node.pos)
        elif kind is Between:
            out = Between(new[0], new[1], new[2], node.pos)
        elif kind is Like:
            out = Like(new[0], new[1], node.insensitive, node.escape, node.pos)
        else:
            out = kind(new[0], node.pos)
    if bound is not None:
        bound.append(out)
    return out


def bind_count(op: Const | Param | None, values: Mapping[int | str, Any], clause: str, text: str | None,
               minimum: int = 0) -> int | None:
    """A LIMIT / OFFSET / DEPTH value: an integer of at least ``minimum``."""
    if op is None:
        return None
    value = values[op.key] if isinstance(op, Param) else op.value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a non-negative" if minimum == 0 else "a positive"
        raise error(f"{clause} must be {kind} integer, got {value!r}", text, op.pos)
    return value
