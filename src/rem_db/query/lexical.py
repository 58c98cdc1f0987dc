"""Lexical helpers that run on the query text before sqlglot: parameter offsets, statement ends,
unterminated quotes, and a fast path for long ``IN (…)`` lists.

sqlglot tokenises and parses in pure Python (about 20 µs per list item), so a 10,000-element ``IN`` list
would take 0.2 s to parse. Before parsing, :func:`compact` finds ``IN (`` followed by a long list of plain
literals (strings, numbers, NULL, TRUE/FALSE) or parameters, reads the items with one regular expression,
and replaces the list by a single named marker padded with spaces, so every other character keeps its
offset (error positions stay exact). :mod:`.sql` expands the marker back into the items.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..storage.codec import INT_MAX, INT_MIN

MIN_ITEMS = 32
MARKER = "__rem_list_"

# Quoted strings and identifiers (possibly unterminated) and comments: skipped by every scan below.
_QUOTED = r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|/\*.*?(?:\*/|\Z)"""
_PARAMS = re.compile(_QUOTED + r"|::|\?|:[A-Za-z_][A-Za-z0-9_]*", re.DOTALL)
_IN_LIST = re.compile(_QUOTED + r"|(?<![A-Za-z0-9_])IN\s*\(", re.DOTALL | re.IGNORECASE)
_SEMICOLON = re.compile(_QUOTED + r"|;", re.DOTALL)
_ITEM = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z0-9_.])
      | (?P<kw>NULL|TRUE|FALSE)(?![A-Za-z0-9_])
      | (?P<qmark>\?)
      | :(?P<named>[A-Za-z_][A-Za-z0-9_]*)
    )\s*(?P<sep>[,)])""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Item:
    """One list item: a literal (``kind`` = "const") or a parameter (``qmark`` / ``named``)."""

    kind: str
    value: Any
    pos: int


def _number(text: str) -> int | float | None:
    """A list item's number; ``None`` for one out of range, so the list takes the parser's path, which
    reports it with its position."""
    try:
        value: int | float = int(text)
    except ValueError:
        value = float(text)
        return value if math.isfinite(value) else None
    return value if INT_MIN <= value <= INT_MAX else None


def _read_list(text: str, start: int) -> tuple[list[Item], int] | None:
    """Items of a literal list whose first item starts at ``start`` (just after ``(``), and the offset of
    the closing ``)``; ``None`` when the list holds anything but plain literals and parameters."""
    items: list[Item] = []
    pos = start
    while True:
        m = _ITEM.match(text, pos)
        if m is None:
            return None
        if m["str"] is not None:
            items.append(Item("const", m["str"][1:-1].replace("''", "'"), m.start("str")))
        elif m["num"] is not None:
            number = _number(m["num"])
            if number is None:
                return None
            items.append(Item("const", number, m.start("num")))
        elif m["kw"] is not None:
            items.append(Item("const", {"null": None, "true": True, "false": False}[m["kw"].lower()],
                              m.start("kw")))
        elif m["qmark"] is not None:
            items.append(Item("qmark", None, m.start("qmark")))
        else:
            items.append(Item("named", m["named"], m.start("named") - 1))
        pos = m.end()
        if m["sep"] == ")":
            return items, pos - 1


def compact(text: str) -> tuple[str, dict[str, list[Item]]]:
    """``text`` with every long literal ``IN`` list replaced by a padded marker, and the lists by marker."""
    if len(text) < MIN_ITEMS * 2:
        return text, {}
    lists: dict[str, list[Item]] = {}
    out: list[str] = []
    done = pos = 0
    while True:
        m = _IN_LIST.search(text, pos)
        if m is None:
            break
        pos = m.end()
        if m.group()[0] in "'\"-/":
            continue
        found = _read_list(text, pos)
        if found is None or len(found[0]) < MIN_ITEMS:
            continue
        items, close = found
        name = f"{MARKER}{len(lists)}"
        body = text[pos:close]
        out.append(text[done:pos])
        out.append(":" + name + "".join(c if c == "\n" else " " for c in body[len(name) + 1:]))
        lists[name] = items
        done = pos = close
    if not lists:
        return text, {}
    out.append(text[done:])
    return "".join(out), lists


def placeholders(text: str) -> tuple[list[int], dict[str, int]]:
    """Offsets of the ``?`` parameters in order, and of the first use of each ``:name`` parameter
    (quoted strings, quoted identifiers and comments skipped; ``::`` casts are not parameters)."""
    qmarks: list[int] = []
    named: dict[str, int] = {}
    for m in _PARAMS.finditer(text):
        token = m.group()
        if token == "?":
            qmarks.append(m.start())
        elif token[0] == ":" and token != "::":
            named.setdefault(token[1:], m.start())
    return qmarks, named


def rename_params(text: str) -> tuple[str, dict[str, str]]:
    """Rename ``:name`` parameters to same-length neutral names (``:when`` -> ``:_0__``), because sqlglot
    does not read a parameter named like a keyword (``:from``, ``:limit``). Returns the text and a map from
    the new names back to the user's."""
    names: dict[str, str] = {}
    out: list[str] = []
    done = 0
    for m in _PARAMS.finditer(text):
        token = m.group()
        if token[0] != ":" or token == "::" or len(token) < 3:
            continue
        name = token[1:]
        new = names.get(name)
        if new is None:
            code = _base36(len(names))
            if len(code) + 1 > len(name):
                continue  # too short to rename: left as it is
            new = names[name] = ("_" + code).ljust(len(name), "_")
        out.append(text[done:m.start() + 1])
        out.append(new)
        done = m.end()
    if not names:
        return text, {}
    out.append(text[done:])
    return "".join(out), {v: k for k, v in names.items()}


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = digits[n % 36]
    while n >= 36:
        n //= 36
        out = digits[n % 36] + out
    return out


def first_unterminated(text: str) -> int:
    """Offset of a quoted string or identifier that is never closed, or -1."""
    for m in _SEMICOLON.finditer(text):
        token = m.group()
        quote = token[0]
        if quote in "'\"" and (len(token) < 2 or not token.endswith(quote) or _open_end(token, quote)):
            return m.start()
    return -1


def _open_end(token: str, quote: str) -> bool:
    """A token like ``'abc''`` ends with an escaped quote, not a closing one."""
    body = token[1:]
    run = len(body) - len(body.rstrip(quote))
    return run % 2 == 0


def statement_end(text: str) -> int:
    """Offset of the first ``;`` outside quotes and comments, or -1."""
    for m in _SEMICOLON.finditer(text):
        if m.group() == ";":
            return m.start()
    return -1


# -- tokens for the syntax check (query/syntax.py) ----------------------------------------------------
_TYPOGRAPHIC_QUOTES = "‘’‚‛“”„‟′″«»‹›＂＇"
_TOKEN = re.compile(
    r"""(?:\s+|--[^\n]*|/\*.*?\*/)*  # spaces and comments before the token
    (?:
        (?P<open_comment>/\*)
      | (?P<str>(?:[A-Za-z](?='))?'(?:[^']|'')*')
      | (?P<open_str>(?:[A-Za-z](?='))?')
      | (?P<qident>"(?:[^"]|"")*")
      | (?P<open_qident>")
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\w*)
      | (?P<param>\?|:[A-Za-z_]\w*|\$\d+)
      | (?P<word>[^\W\d]\w*)
      | (?P<op>::|->>|<->|<=|>=|<>|!=|==|\|\||->|\*\*|//|<<|>>|@>|<@|&&|!~|[-+*/%<>=!|&^~@#.,;()\[\]{}:$])
      | (?P<bad>.)
    )?""",
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of query text: ``kind`` is word, qident (a "quoted name"), str, num, param, op, bad
    (a character no SQL token starts with) or end; ``pos`` is its offset in the text."""

    kind: str
    text: str
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    @property
    def word(self) -> str:
        """The lower-cased word ('' for a token that is not a word)."""
        return self.text.lower() if self.kind == "word" else ""

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops


class LexicalError(ValueError):
    """Text that cannot be split into tokens: ``pos`` is where, ``message`` says why."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of ``text[start:end]`` (comments and spaces left out), ending with an ``end`` token at the
    end of the last token (or ``start``). :class:`LexicalError` for an unterminated string, quoted name or
    comment, and for quotes that SQL does not use (backquotes, typographic quotes)."""
    stop = len(text) if end is None else end
    out: list[Token] = []
    last = start
    pos = start
    match = _TOKEN.match
    while pos < stop:
        m = match(text, pos, stop)
        assert m is not None  # the pattern matches the empty string
        kind = m.lastgroup
        if kind is None:  # only spaces and comments were left
            break
        begin = m.start(kind)
        pos = last = m.end()
        if kind.startswith("open_"):
            raise LexicalError(_UNTERMINATED[kind], begin)
        value = m.group(kind)
        if kind == "bad" and value in _TYPOGRAPHIC_QUOTES:
            raise LexicalError(f"{value} is a typographic quote: write text in straight single quotes ('abc') and "
                               f"names that need quoting in straight double quotes (\"my column\")", begin)
        if kind == "bad" and value == "`":
            raise LexicalError("backquotes (`) do not quote anything here: write text in single quotes ('abc') and "
                               "names that need quoting in double quotes (\"my column\")", begin)
        out.append(Token(kind, value, begin))
    out.append(Token("end", "", last))
    return out


_UNTERMINATED = {
    "open_comment": "unterminated comment: /* is never closed with */",
    "open_str": "unterminated quoted string: this ' is never closed (a quote inside text is doubled: 'it''s')",
    "open_qident": 'unterminated quoted string: this " is never closed (a quote inside a name is doubled: "a""b")',
}
