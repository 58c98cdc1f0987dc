"""Positions in query text, and :class:`~rem_db.QueryError` messages that name them."""

from __future__ import annotations

from ..errors import QueryError
from ..storage.codec import surrogate_name, unencodable_at


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def offset_of(text: str, line: int, col: int) -> int:
    """The character offset of a 1-based line and column (inverse of :func:`line_col`)."""
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    return min(len(text), start + max(col, 1) - 1)


def error(message: str, text: str | None = None, pos: int = -1) -> QueryError:
    """A :class:`QueryError` whose message ends with ``at line L, column C`` when the position is known.

    The error carries ``offset`` (0-based), ``line`` and ``column`` (1-based; ``None`` when unknown).
    """
    exc: QueryError
    if text is not None and pos >= 0:
        line, col = line_col(text, pos)
        exc = QueryError(f"{message} (at line {line}, column {col})")
        exc.offset, exc.line, exc.column = pos, line, col  # type: ignore[attr-defined]
    else:
        exc = QueryError(message)
        exc.offset = exc.line = exc.column = None  # type: ignore[attr-defined]
    return exc


def check_text(text: str) -> None:
    """Refuse query text that is not valid Unicode (a lone surrogate: no stored string can equal it and the
    index cannot encode it), naming the character, line and column."""
    pos = unencodable_at(text)
    if pos >= 0:
        raise error(f"the query text is not valid Unicode: {surrogate_name(text[pos])}", text, pos)
