"""Byte-level pre-filters for table scans: skip decoding rows that cannot match.

Decoding an entity's JSON costs more than anything else in a scan. For the common selective conditions a
cheap test on the stored bytes (as :mod:`orjson` wrote them) rules most rows out first:

* ``field = 'text'`` / ``IN`` / ``= TRUE``: the bytes ``"field":"text"`` must occur;
* a comparison, ``IN`` or ``BETWEEN`` on a number: some ``"field":<number>`` must satisfy it;
* ``LIKE`` (case-sensitive): the longest literal piece of the pattern must occur (JSON-escaped).

Each test is a *necessary* condition: a row that passes may still fail the real predicate (it is always
evaluated on the decoded row), but a row that fails cannot match. ``AND`` needs any one of its parts'
tests, ``OR`` all of its branches' tests (a branch without one disables the pre-filter). Only top-level
fields declared with scalar types are tested by key (a list or a nested object holds its values
differently); timestamps are not (their text varies for one instant).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from .binder import TableInfo
from .plan import And, Between, Compare, Const, Expr, Field, InList, Like, Or, Truth

Test = Callable[[bytes], bool]
_OPS = ("=", "<", "<=", ">", ">=")
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NUMBER = rb"(-?[0-9][0-9.eE+-]*)"
MIN_PIECE = 2  # shorter LIKE pieces occur almost everywhere


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(name: str) -> bytes:
    return orjson.dumps(name) + b":"


class Builder:
    def __init__(self, table: TableInfo) -> None:
        self.table = table

    def field(self, op: Any) -> str | None:
        """The name of a top-level scalar, non-timestamp field, or None."""
        if not isinstance(op, Field) or len(op.path) != 1:
            return None
        info = self.table.field(op)
        if not info.scalar or info.timestamp or op.path[0] == "id":
            return None
        return op.path[0]

    def build(self, expr: Expr | None) -> Test | None:
        if expr is None:
            return None
        if isinstance(expr, And):
            tests = [t for t in (self.build(e) for e in expr.items) if t is not None]
            if not tests:
                return None
            return tests[0] if len(tests) == 1 else (lambda raw: all(t(raw) for t in tests))
        if isinstance(expr, Or):
            parts = [self.build(e) for e in expr.items]
            if any(t is None for t in parts):
                return None
            tests = [t for t in parts if t is not None]
            return lambda raw: any(t(raw) for t in tests)
        if isinstance(expr, Compare):
            return self._compare(expr)
        if isinstance(expr, InList):
            return self._in(expr)
        if isinstance(expr, Between):
            name = self.field(expr.expr)
            if name is None or not isinstance(expr.low, Const) or not isinstance(expr.high, Const):
                return None
            lo, hi = expr.low.value, expr.high.value
            if not (_is_number(lo) and _is_number(hi)):
                return None
            findall = _finder(name)
            flo, fhi = float(lo), float(hi)
            return lambda raw: any(flo <= v <= fhi for v in map(float, findall(raw)))
        if isinstance(expr, Like):
            return self._like(expr)
        if isinstance(expr, Truth):
            name = self.field(expr.expr)
            return None if name is None else _contains(_key(name) + b"true")
        return None

    def _compare(self, expr: Compare) -> Test | None:
        left, right, op = expr.left, expr.right, expr.op
        if isinstance(left, Const) and isinstance(right, Field):
            left, right, op = right, left, _FLIP.get(op, op)
        name = self.field(left)
        if name is None or not isinstance(right, Const) or right.value is None or op not in _OPS:
            return None
        value = right.value
        if _is_number(value):
            # Compared as floats, relaxed to <= / >= : rounding to float is monotonic, so a value that
            # satisfies the exact comparison always passes (a large int may pass without satisfying it).
            search, c = _searcher(name), float(value)
            accept = {"=": c.__eq__, "<": c.__ge__, "<=": c.__ge__, ">": c.__le__, ">=": c.__le__}[op]

            def test(raw: bytes) -> bool:
                m = search(raw)
                while m is not None:
                    if accept(float(m.group(1))):
                        return True
                    m = search(raw, m.end())
                return False
            return test
        if op == "=" and isinstance(value, str | bool):
            return _contains(_key(name) + orjson.dumps(value))
        return None

    def _in(self, expr: InList) -> Test | None:
        name = self.field(expr.expr)
        if name is None or not all(isinstance(i, Const) for i in expr.items):
            return None
        values = [i.value for i in expr.items if isinstance(i, Const) and i.value is not None]
        if not values:
            return lambda raw: False  # x IN (NULL) is never TRUE
        if all(_is_number(v) for v in values):
            findall, wanted = _finder(name), {float(v) for v in values}
            return lambda raw: not wanted.isdisjoint(map(float, findall(raw)))
        if all(isinstance(v, str | bool) for v in values):
            needles = [_key(name) + orjson.dumps(v) for v in values]
            return lambda raw: any(n in raw for n in needles)
        return None

    @staticmethod
    def _like(expr: Like) -> Test | None:
        if expr.insensitive or not isinstance(expr.expr, Field) or not isinstance(expr.pattern, Const) \
                or not isinstance(expr.pattern.value, str):
            return None
        pieces: list[str] = []
        current: list[str] = []
        pattern, escape = expr.pattern.value, expr.escape
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if escape is not None and ch == escape and i + 1 < len(pattern):
                current.append(pattern[i + 1])
                i += 2
                continue
            if ch in "%_":
                pieces.append("".join(current))
                current = []
            else:
                current.append(ch)
            i += 1
        pieces.append("".join(current))
        longest = max(pieces, key=len)
        if len(longest) < MIN_PIECE:
            return None
        return _contains(orjson.dumps(longest)[1:-1])


def _finder(name: str) -> Callable[[bytes], list[bytes]]:
    """``findall`` of the numbers written after ``"name":`` anywhere in a row's bytes."""
    return re.compile(re.escape(_key(name)) + _NUMBER).findall


def _searcher(name: str) -> Callable[..., Any]:
    """``search`` for a number written after ``"name":`` in a row's bytes (group 1: the number)."""
    return re.compile(re.escape(_key(name)) + _NUMBER).search


def _contains(needle: bytes) -> Test:
    return lambda raw: needle in raw


def compile_prefilter(expr: Expr | None, table: TableInfo) -> Test | None:
    """A necessary condition on a row's stored bytes, or None when the condition has none worth testing."""
    return Builder(table).build(expr)
