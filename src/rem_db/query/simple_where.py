"""The commonest WHERE shape parsed without sqlglot: ``column op literal [AND column op literal]...``.

A metadata filter such as ``category = 'news'`` or ``year >= 2020 AND lang = 'en'`` is what most filtered
searches pass, and each new literal is a new text to parse: the full parser (:func:`.sql.parse_where`, sqlglot
underneath) takes ~0.3 ms of a ~2.5 ms first-time filtered search. This parse builds exactly the nodes the full
parser builds for that shape (same classes, values and positions; tests/query/test_simple_where.py checks it
against the full parser) and returns None for anything else, which then goes to the full parser.

Accepted: plain identifiers (each one checked once against the full parser, so a name it reads as a keyword or
function never takes this path), the operators ``= != <> < <= > >=``, single-quoted strings without
backslashes (``''`` is a quote), unsigned integers of up to 18 digits and unsigned decimals ``1.5``, joined by
``AND`` (any case).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import QueryError
from .plan import And, Compare, Const, Expr, Field
from .sql import Counter, parse_where

_TOKEN = re.compile(r"""\s*(?:
    (?P<name>[A-Za-z_][A-Za-z0-9_]*)(?![\w."(])
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<string>'(?:[^'\\]|'')*')(?!')
  | (?P<number>[0-9]{1,18}(?:\.[0-9]+)?)(?![\w.])
)""", re.VERBOSE)
_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@lru_cache(maxsize=4096)
def plain_name(name: str) -> bool:
    """Whether the full parser reads ``name`` as a plain column (not a keyword, literal or function)."""
    probe = f"{name} = 1"
    try:
        parsed = parse_where(probe, 0, len(probe), Counter(probe))
    except QueryError:
        return False
    return parsed == Compare("=", Field((name,), 0), Const(1, len(name) + 3), 0)


def simple_condition(text: str) -> Expr | None:
    """The condition ``text`` as the full parser would build it, or None if it is not of the simple shape."""
    items: list[Expr] = []
    pos = 0
    while True:
        name = _TOKEN.match(text, pos)
        if name is None or name["name"] is None or not plain_name(name["name"]):
            return None
        op = _TOKEN.match(text, name.end())
        if op is None or op["op"] is None:
            return None
        literal = _TOKEN.match(text, op.end())
        if literal is None:
            return None
        if literal["string"] is not None:
            value: object = literal["string"][1:-1].replace("''", "'")
        elif literal["number"] is not None:
            raw = literal["number"]
            value = float(raw) if "." in raw else int(raw)
        else:
            return None
        start = name.start("name")
        const = Const(value, literal.start(literal.lastgroup or 0))
        items.append(Compare(_OPS[op["op"]], Field((name["name"],), start), const, start))
        pos = literal.end()
        if not text[pos:].strip():
            return items[0] if len(items) == 1 else And(tuple(items))
        joiner = _TOKEN.match(text, pos)
        if joiner is None or joiner["name"] is None or joiner["name"].lower() != "and":
            return None
        pos = joiner.end()
