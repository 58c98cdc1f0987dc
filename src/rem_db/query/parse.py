"""Query text -> :class:`~.plan.Parsed`: ``EXPLAIN``, the REM forms, or SQL."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import QueryError
from .plan import ExplainPlan, Parsed, Statement
from .positions import check_text, error
from .rem_forms import parse_lookup, parse_search, parse_traverse
from .sql import Counter, parse_select

# the first word, after whitespace and comments
_WORD = re.compile(r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*([A-Za-z_][A-Za-z0-9_]*)", re.DOTALL)
_FORMS: dict[str, Callable[[str, int, Counter], Statement]] = {
    "lookup": parse_lookup, "search": parse_search, "traverse": parse_traverse}
EMPTY = "empty query: expected SELECT …, LOOKUP, SEARCH or TRAVERSE"


def parse(text: str) -> Parsed:
    """Parse one query; :class:`QueryError` (with line and column) when it is not valid."""
    if not isinstance(text, str):
        raise QueryError(f"a query is a string, not {type(text).__name__}")
    if not text.strip() or not text.strip().strip(";").strip():
        raise QueryError(EMPTY)
    check_text(text)
    counter = Counter(text)
    m = _WORD.match(text)
    statement: Statement
    if m is not None and m.group(1).lower() == "explain":
        start = m.end()
        following = _WORD.match(text, start)
        if following is not None and following.group(1).lower() == "analyze":
            start = following.end()
        if not text[start:].strip().strip(";").strip():
            raise error("EXPLAIN needs a query after it", text, start)
        statement = ExplainPlan(_statement(text, start, counter))
    else:
        statement = _statement(text, 0, counter)
    return Parsed(text, statement, counter.positional, tuple(counter.named))


def _statement(text: str, start: int, counter: Counter) -> Statement:
    m = _WORD.match(text, start)
    word = m.group(1).lower() if m is not None else ""
    if word in _FORMS:
        assert m is not None
        return _FORMS[word](text, m.end(), counter)
    if word == "explain":
        assert m is not None
        raise error("EXPLAIN cannot be nested", text, m.start(1))
    return parse_select(text, counter, start)
