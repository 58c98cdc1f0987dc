"""The REM forms of SPEC §5, with their own small grammar (keywords case-insensitive):

    LOOKUP 'k1' [, 'k2' …]
    SEARCH 'text' [IN table] [HYBRID] [WHERE condition] [LIMIT n]
    TRAVERSE FROM 'id or key' [DEPTH n] [DIRECTION out|in|both] [TYPE 'rel'[, 'rel2' ...]] [LIMIT n]

Strings are single-quoted, a quote inside is doubled (``'it''s'``); they may hold anything (`` IN ``,
commas, ``WHERE``). Every value may be a parameter (``?`` or ``:name``). The SEARCH condition is SQL and
is parsed by :mod:`.sql`; it runs until a final ``LIMIT n``. TRAVERSE options come in any order, once each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .plan import Const, LookupPlan, Param, SearchPlan, TraversePlan
from .positions import error
from .sql import Counter, parse_where

MAX_DEPTH = 10
DIRECTIONS = ("out", "in", "both")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<ident>"(?:[^"]|"")*")
      | (?P<num>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<qmark>\?)
      | :(?P<named>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # str ident num word qmark named other end
    value: str
    pos: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value.lower() in words


class Tokens:
    """A cursor over the tokens of a REM form."""

    def __init__(self, text: str, start: int, counter: Counter) -> None:
        self.text = text
        self.pos = start
        self.counter = counter

    def peek(self) -> Token:
        m = _TOKEN.match(self.text, self.pos)
        if m is None:  # only whitespace is left
            return Token("end", "", len(self.text), len(self.text))
        kind = m.lastgroup or "other"
        value = m.group(kind)
        start = m.start(kind) - (1 if kind == "named" else 0)
        if kind == "other" and value in "'\"":
            raise error("syntax error: unterminated quoted string", self.text, start)
        if kind == "other" and value == ";" and not self.text[m.end():].strip():
            return Token("end", "", start, len(self.text))
        return Token(kind, value, start, m.end())

    def next(self) -> Token:
        tok = self.peek()
        self.pos = tok.end
        return tok

    def fail(self, message: str, tok: Token) -> Exception:
        text = self.text[tok.pos:tok.end]
        shown = "end of query" if tok.kind == "end" else f"'{text[:37]}…'" if len(text) > 40 else f"'{text}'"
        return error(f"syntax error: {message}, got {shown}", self.text, tok.pos)

    def value(self, what: str) -> Const | Param:
        """A quoted string or a parameter."""
        tok = self.next()
        if tok.kind == "str":
            return Const(tok.value[1:-1].replace("''", "'"), tok.pos)
        if tok.kind == "qmark":
            return self.counter.qmark()
        if tok.kind == "named":
            return self.counter.name(tok.value)
        raise self.fail(f"expected {what} as a quoted string ('…') or a parameter", tok)

    def integer(self, what: str) -> Const | Param:
        tok = self.next()
        if tok.kind == "qmark":
            return self.counter.qmark()
        if tok.kind == "named":
            return self.counter.name(tok.value)
        if tok.kind == "num":
            try:
                return Const(int(tok.value), tok.pos)
            except ValueError:
                pass
        raise self.fail(f"{what} must be an integer", tok)

    def identifier(self, what: str) -> tuple[str, int]:
        tok = self.next()
        if tok.kind == "word":
            return tok.value.lower(), tok.pos
        if tok.kind == "ident":
            return tok.value[1:-1].replace('""', '"'), tok.pos
        raise self.fail(f"expected {what}", tok)

    def end(self) -> None:
        tok = self.peek()
        if tok.kind != "end":
            raise self.fail("unexpected text after the end of the query", tok)


def check_depth(value: object, text: str, pos: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DEPTH:
        raise error(f"DEPTH must be an integer from 1 to {MAX_DEPTH}, got {value!r}", text, pos)
    return value


def check_limit(value: object, text: str, pos: int, clause: str = "LIMIT") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise error(f"{clause} must be a positive integer, got {value!r}", text, pos)
    return value


def parse_lookup(text: str, start: int, counter: Counter) -> LookupPlan:
    toks = Tokens(text, start, counter)
    keys = [toks.value("a key")]
    while toks.peek().kind == "other" and toks.peek().value == ",":
        toks.next()
        keys.append(toks.value("a key"))
    toks.end()
    return LookupPlan(tuple(keys))


def _where_end(text: str, start: int) -> tuple[int, Token | None]:
    """Where a SEARCH condition starting at ``start`` ends: before a final top-level ``LIMIT n``."""
    toks = Tokens(text, start, Counter(""))
    depth = 0
    while True:
        tok = toks.next()
        if tok.kind == "end":
            return len(text), None
        if tok.kind == "other":
            depth += {"(": 1, ")": -1}.get(tok.value, 0)
        if depth == 0 and tok.is_word("limit"):
            return tok.pos, tok


def parse_search(text: str, start: int, counter: Counter) -> SearchPlan:
    toks = Tokens(text, start, counter)
    query = toks.value("the search text")
    table, table_pos = None, -1
    where = where_text = None
    limit: Const | Param | None = None
    if toks.peek().is_word("in"):
        toks.next()
        table, table_pos = toks.identifier("a table name after IN")
    hybrid = toks.peek().is_word("hybrid")  # BM25 fused with the vector ranking (Database.search(hybrid=True))
    if hybrid:
        toks.next()
    tok = toks.peek()
    if tok.is_word("where"):
        toks.next()
        cond_start = toks.pos
        cond_end, limit_tok = _where_end(text, cond_start)
        where = parse_where(text, cond_start, cond_end, counter, table)
        where_text = text[cond_start:cond_end].strip()
        toks.pos = cond_end
        tok = toks.peek()
        if limit_tok is None:
            return SearchPlan(query, table, table_pos, where, where_text, None, hybrid)
    if tok.is_word("limit"):
        toks.next()
        limit = toks.integer("LIMIT")
        if isinstance(limit, Const):
            check_limit(limit.value, text, limit.pos)
    elif tok.kind != "end":
        raise toks.fail("expected IN table, WHERE or LIMIT", tok)
    toks.end()
    return SearchPlan(query, table, table_pos, where, where_text, limit, hybrid)


def parse_traverse(text: str, start: int, counter: Counter) -> TraversePlan:
    toks = Tokens(text, start, counter)
    tok = toks.next()
    if not tok.is_word("from"):
        raise toks.fail("expected FROM after TRAVERSE", tok)
    begin = toks.value("the start id or key")
    seen: set[str] = set()
    depth: Const | Param | None = None
    rel: Const | Param | None = None
    more: list[Const | Param] = []
    limit: Const | Param | None = None
    direction = "out"
    while True:
        tok = toks.next()
        if tok.kind == "end":
            break
        option = tok.value.lower() if tok.kind == "word" else ""
        if option not in ("depth", "direction", "type", "limit"):
            raise toks.fail("expected DEPTH, DIRECTION, TYPE or LIMIT", tok)
        if option in seen:
            raise error(f"syntax error: {option.upper()} is given twice", text, tok.pos)
        seen.add(option)
        if option == "depth":
            depth = toks.integer("DEPTH")
            if isinstance(depth, Const):
                check_depth(depth.value, text, depth.pos)
        elif option == "limit":
            limit = toks.integer("LIMIT")
            if isinstance(limit, Const):
                check_limit(limit.value, text, limit.pos)
        elif option == "type":
            rel = toks.value("the relationship type")
            while toks.peek().kind == "other" and toks.peek().value == ",":
                toks.next()
                more.append(toks.value("a relationship type after ','"))
        else:
            word = toks.next()
            value = word.value.lower() if word.kind == "word" else (
                word.value[1:-1].lower() if word.kind == "str" else "")
            if value not in DIRECTIONS:
                raise toks.fail("DIRECTION must be out, in or both", word)
            direction = value
    return TraversePlan(begin, depth, direction, rel, limit, tuple(more))
