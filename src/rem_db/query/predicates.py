"""WHERE evaluation with SQL three-valued logic, compiled into closures once per plan.

Every predicate returns ``True``, ``False`` or ``None`` (UNKNOWN); a row is kept only on ``True``.
NULL — a missing field, a JSON null, a path through a non-object — makes comparisons UNKNOWN;
``NOT`` UNKNOWN is UNKNOWN; ``FALSE AND x`` is FALSE and ``TRUE OR x`` is TRUE whatever x is.

Typed comparisons (see :mod:`.values`): a value and a literal of different classes are UNKNOWN.
A list field compares element-wise and matches when any element does (``tags = 'x'`` means "tags
contains 'x'", as the field index answers it); the negated forms are the negation of that.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from .binder import FieldInfo, TableInfo
from .plan import And, Between, Compare, Const, Expr, Field, InList, IsNull, Like, Not, Operand, Or, Truth
from .positions import error
from .values import BOOL, NUMBER, OTHER, STRING, TIMESTAMP, ts_micros, typed_key

Pred = Callable[[dict[str, Any]], Any]
Scalar = Callable[[Any], Any]  # non-null scalar value -> True / False / None

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def canonical_id(value: Any) -> Any:
    """A UUID literal in the stored form (lowercase, hyphenated), so ``id`` compares as a UUID."""
    if isinstance(value, str) and len(value) in (32, 36, 38):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value
    return value


def getter(path: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """Read a field or a dotted path; anything missing on the way is NULL."""
    if len(path) == 1:
        key = path[0]
        return lambda row: row.get(key)

    def get(row: dict[str, Any]) -> Any:
        value: Any = row
        for part in path:
            if value.__class__ is not dict:
                return None
            value = value.get(part)
            if value is None:
                return None
        return value

    return get


def any3(results: Iterable[Any]) -> Any:
    """OR over element results: TRUE if any is TRUE, else UNKNOWN if any is UNKNOWN, else FALSE."""
    unknown = False
    for r in results:
        if r is True:
            return True
        if r is None:
            unknown = True
    return None if unknown else False


def _scalar_compare(op: str, const: Any, timestamp: bool) -> Scalar:
    """``value <op> const`` for a non-null scalar ``value`` of a field (timestamp or not)."""
    key = typed_key(const, timestamp)
    assert key is not None
    cls, c = key
    f = OPS[op]
    if cls == NUMBER:
        return lambda v: f(v, c) if (v.__class__ is int or v.__class__ is float) else None
    if cls == TIMESTAMP:
        def ts(v: Any) -> Any:
            if v.__class__ is not str:
                return None
            m = ts_micros(v)
            return None if m is None else f(m, c)
        return ts
    if cls == STRING:
        if timestamp:  # a non-timestamp string against a timestamp field's values
            return lambda v: f(v, c) if v.__class__ is str and ts_micros(v) is None else None
        return lambda v: f(v, c) if v.__class__ is str else None
    if cls == BOOL:
        return lambda v: f(v, c) if v.__class__ is bool else None
    return lambda v: None  # lists/objects are never literals


def _lift(get: Callable[[dict[str, Any]], Any], scalar: Scalar) -> Pred:
    """Apply a scalar predicate to a field: NULL -> UNKNOWN, a list -> any element."""
    def pred(row: dict[str, Any]) -> Any:
        v = get(row)
        if v is None:
            return None
        if v.__class__ is list:
            return any3(None if x is None else scalar(x) for x in v)
        return scalar(v)
    return pred


def _general_compare(op: str, left: Callable[[dict[str, Any]], Any], lts: bool,
                     right: Callable[[dict[str, Any]], Any], rts: bool) -> Pred:
    """Any two operands (field vs field, constant vs constant): typed keys, UNKNOWN across classes."""
    f = OPS[op]

    def pred(row: dict[str, Any]) -> Any:
        a = typed_key(left(row), lts)
        b = typed_key(right(row), rts)
        if a is None or b is None or a[0] != b[0] or a[0] == OTHER:
            return None
        return f(a[1], b[1])
    return pred


class Compiler:
    """Turns a bound (parameter-free) WHERE expression into a predicate over entity dicts."""

    def __init__(self, table: TableInfo, text: str | None = None) -> None:
        self.table = table
        self.text = text

    def info(self, f: Field) -> FieldInfo:
        return self.table.field(f, self.text)

    def operand(self, op: Operand) -> tuple[Callable[[dict[str, Any]], Any], bool]:
        if isinstance(op, Field):
            return getter(op.path), self.info(op).timestamp
        assert isinstance(op, Const), f"unbound parameter {op!r}"
        value = op.value
        return (lambda row: value), False

    def compile(self, expr: Expr | None) -> Pred:
        if expr is None:
            return lambda row: True
        if isinstance(expr, And):
            return self._and([self.compile(e) for e in expr.items])
        if isinstance(expr, Or):
            return self._or([self.compile(e) for e in expr.items])
        if isinstance(expr, Not):
            inner = self.compile(expr.item)

            def negate(row: dict[str, Any]) -> Any:
                r = inner(row)
                return None if r is None else not r
            return negate
        if isinstance(expr, Compare):
            return self._compare(expr)
        if isinstance(expr, InList):
            return self._in(expr)
        if isinstance(expr, Between):
            return self._between(expr)
        if isinstance(expr, Like):
            return self._like(expr)
        if isinstance(expr, IsNull):
            get, _ = self.operand(expr.expr)
            return lambda row: get(row) is None
        if isinstance(expr, Truth):
            get, _ = self.operand(expr.expr)

            def truth(row: dict[str, Any]) -> Any:
                v = get(row)
                return v if v.__class__ is bool else None
            return truth
        raise AssertionError(f"unknown expression {expr!r}")

    @staticmethod
    def _and(preds: list[Pred]) -> Pred:
        if len(preds) == 1:
            return preds[0]
        if len(preds) == 2:
            a, b = preds

            def and2(row: dict[str, Any]) -> Any:
                r = a(row)
                if r is False:
                    return False
                s = b(row)
                if s is False:
                    return False
                return True if r is True and s is True else None
            return and2

        def and_(row: dict[str, Any]) -> Any:
            result: Any = True
            for p in preds:
                r = p(row)
                if r is False:
                    return False
                if r is None:
                    result = None
            return result
        return and_

    @staticmethod
    def _or(preds: list[Pred]) -> Pred:
        if len(preds) == 1:
            return preds[0]

        def or_(row: dict[str, Any]) -> Any:
            result: Any = False
            for p in preds:
                r = p(row)
                if r is True:
                    return True
                if r is None:
                    result = None
            return result
        return or_

    def _compare(self, expr: Compare) -> Pred:
        left, right, op = expr.left, expr.right, expr.op
        if isinstance(right, Field) and isinstance(left, Const):
            left, right, op = right, left, FLIP[op]
        if isinstance(left, Field) and isinstance(right, Const):
            if right.value is None:
                return lambda row: None
            if op == "!=":  # NOT (x = c): for a list, "contains no element equal to c"
                equal = self._compare(Compare("=", left, right, expr.pos))

                def differs(row: dict[str, Any]) -> Any:
                    r = equal(row)
                    return None if r is None else not r
                return differs
            info = self.info(left)
            value = canonical_id(right.value) if info.path == ("id",) else right.value
            return _lift(getter(left.path), _scalar_compare(op, value, info.timestamp))
        (lg, lts), (rg, rts) = self.operand(left), self.operand(right)
        return _general_compare(op, lg, lts, rg, rts)

    def _in(self, expr: InList) -> Pred:
        get, ts = self.operand(expr.expr)
        is_id = isinstance(expr.expr, Field) and expr.expr.path == ("id",)
        has_null = False
        keys: set[tuple[int, Any]] = set()
        for item in expr.items:
            assert isinstance(item, Const), f"unbound parameter {item!r}"
            key = typed_key(canonical_id(item.value) if is_id else item.value, ts)
            if key is None:
                has_null = True
            elif key[0] != OTHER:
                keys.add(key)
        classes = {k[0] for k in keys}
        # Per value class: is a miss FALSE, or UNKNOWN (a NULL item, or items of another class)?
        unknown_miss = {c: has_null or bool(classes - {c}) for c in (BOOL, NUMBER, TIMESTAMP, STRING, OTHER)}

        def scalar(v: Any) -> Any:
            key = typed_key(v, ts)
            assert key is not None
            if key in keys:
                return True
            return None if unknown_miss[key[0]] else False

        if isinstance(expr.expr, Field):
            return _lift(get, scalar)
        return lambda row: None if get(row) is None else scalar(get(row))

    def _between(self, expr: Between) -> Pred:
        if isinstance(expr.expr, Field) and isinstance(expr.low, Const) and isinstance(expr.high, Const):
            info = self.info(expr.expr)
            lo, hi = expr.low.value, expr.high.value
            ge = _scalar_compare(">=", lo, info.timestamp) if lo is not None else (lambda v: None)
            le = _scalar_compare("<=", hi, info.timestamp) if hi is not None else (lambda v: None)

            def scalar(v: Any) -> Any:
                a = ge(v)
                if a is False:
                    return False
                b = le(v)
                if b is False:
                    return False
                return True if a is True and b is True else None
            return _lift(getter(expr.expr.path), scalar)
        return self._and([self._compare(Compare(">=", expr.expr, expr.low, expr.pos)),
                          self._compare(Compare("<=", expr.expr, expr.high, expr.pos))])

    def _like(self, expr: Like) -> Pred:
        get, _ = self.operand(expr.expr)
        assert isinstance(expr.pattern, Const), f"unbound parameter {expr.pattern!r}"
        pattern = expr.pattern.value
        if pattern is None:
            return lambda row: None
        if not isinstance(pattern, str):
            raise error(f"the LIKE pattern must be a string, got {pattern!r}", self.text, expr.pattern.pos)
        match = like_matcher(pattern, expr.escape, expr.insensitive, self.text, expr.pattern.pos)
        lower = expr.insensitive

        def scalar(v: Any) -> Any:
            if v.__class__ is not str:
                return None
            return match(v.lower() if lower else v)

        if isinstance(expr.expr, Field):
            return _lift(get, scalar)
        return lambda row: None if get(row) is None else scalar(get(row))


def like_matcher(pattern: str, escape: str | None, insensitive: bool, text: str | None = None,
                 pos: int = -1) -> Callable[[str], bool]:
    """A matcher for a LIKE pattern (``%`` any run, ``_`` one character, ``escape`` quotes the next one)."""
    if insensitive:
        pattern = pattern.lower()
        escape = escape.lower() if escape else escape
    parts: list[str] = []
    literal = True
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            i += 1
            if i >= len(pattern):
                raise error("the LIKE pattern ends with its ESCAPE character", text, pos)
            parts.append(re.escape(pattern[i]))
        elif ch == "%":
            parts.append(".*")
            literal = False
        elif ch == "_":
            parts.append(".")
            literal = False
        else:
            parts.append(re.escape(ch))
        i += 1
    if escape is None:
        body = pattern.strip("%")
        if literal:
            return lambda v: v == pattern
        if "%" not in body and "_" not in body and body:
            starts, ends = pattern.startswith("%"), pattern.endswith("%")
            if starts and ends:
                return lambda v: body in v
            if ends:
                return lambda v: v.startswith(body)
            if starts:
                return lambda v: v.endswith(body)
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda v: regex.fullmatch(v) is not None


def like_prefix(pattern: str, escape: str | None) -> str | None:
    """The literal prefix of a LIKE pattern before its first wildcard (for an index range), or None."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            i += 1
            if i >= len(pattern):
                return None
            out.append(pattern[i])
        elif ch in "%_":
            break
        else:
            out.append(ch)
        i += 1
    return "".join(out) or None
