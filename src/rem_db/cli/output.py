"""Rendering of command results: rich tables (default), pretty JSON, JSON Lines and CSV on stdout.

JSON prints an object for a single result and an array for a list; JSON Lines one object per line;
CSV a header made of the union of the keys (in order of first appearance) with nested values as JSON.
Rich is imported only when a table is printed, to keep start-up fast.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import orjson

from .state import Format

CELL_WIDTH = 60  # longest value shown in a table cell before it is cut with "…"
ELLIPSIS = "…"
ZWJ = "\u200d"  # zero-width joiner: the characters on both sides draw as one (emoji sequences)
#: Columns that identify a row (keys, uris, names): cut in the middle, keeping the tail that tells them apart.
IDENTIFYING = frozenset({"uri", "key", "name", "lookup", "entity"})
SYSTEM_TAIL = ("created_at", "modified_at", "deleted_at", "edges")
Record = dict[str, Any]


# -- plain values ----------------------------------------------------------------------------------
def text_value(value: Any) -> str:
    """A value as text: strings as they are, ``null`` as empty, everything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")


def one_line(value: Any) -> str:
    """:func:`text_value` on one line (line breaks shown as ``\\n``)."""
    return text_value(value).replace("\r", "\\r").replace("\n", "\\n")


def cell(value: Any, width: int = CELL_WIDTH, middle: bool = False) -> str:
    """A value for a table cell: one line, at most ``width`` characters, cut at the end with "…" (or in the
    middle with :func:`shorten_middle` when ``middle``: keys, uris and names, whose tail tells them apart)."""
    text = one_line(value)
    if middle:
        return shorten_middle(text, width)
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def shorten_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells, its middle replaced by "…" when it is longer.

    The tail is what tells keys apart (a file name, a ``#chunk-0003`` fragment), so it is kept first, cut at
    ``/`` boundaries: the last segment whole (``…/doc-001.pdf#chunk-0003``), then the leading segment
    (``file:///…/doc-001.pdf#chunk-0003``), then more whole segments, nearest the tail first, while they fit.
    When the last segment alone does not fit, or there is no ``/``, that text is cut in its own middle:
    half the room for its start, half for its end (``doc-001-glen…df#chunk-0003``). Widths are terminal
    cells (a CJK character takes two) and a character is never parted from its combining marks.
    """
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS if width == 1 else ""
    room = width - 1
    starts = [i for i in range(1, len(text)) if text[i - 1] == "/" and text[i] != "/"]  # segment starts
    if not starts:
        return _cut_middle(text, room)
    tail = starts[-1] - 1  # the last segment, from its "/"
    if cell_len(text[tail:]) > room:
        last = text[tail + 1:]
        return ELLIPSIS + last if cell_len(last) <= room else _cut_middle(last, room)

    def fits(head: int, tail: int) -> bool:
        return cell_len(text[:head]) + cell_len(text[tail:]) <= room

    head = starts[0] if len(starts) > 1 and fits(starts[0], tail) else 0
    for start in reversed(starts[:-1]):  # whole segments before the tail, nearest first
        if start <= head or not fits(head, start - 1):
            break
        tail = start - 1
    for start in starts:  # then whole segments after the head
        if start <= head:
            continue
        if start > tail or not fits(start, tail):
            break
        head = start
    return text[:head] + ELLIPSIS + text[tail:]


def _cut_middle(text: str, room: int) -> str:
    """``text`` cut in the middle to ``room`` cells plus the ellipsis: the end gets half (rounded up)."""
    clusters = _clusters(text)
    tail: list[str] = []
    used = 0
    for part, size in reversed(clusters):
        if used + size > room - room // 2:
            break
        tail.append(part)
        used += size
    head: list[str] = []
    for part, size in clusters:
        if used + size > room:
            break
        head.append(part)
        used += size
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


def _clusters(text: str) -> list[tuple[str, int]]:
    """``text`` as (character with its zero-width marks and joined characters, cells) pairs."""
    from rich.cells import cell_len

    out: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (text[j - 1] == ZWJ or cell_len(text[j]) == 0):
            j += 1
        out.append((text[i:j], cell_len(text[i:j])))
        i = j
    return out


# -- machine formats -------------------------------------------------------------------------------
def _write(text: str) -> None:
    sys.stdout.write(text)


def print_json(data: Any) -> None:
    _write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n")


def print_jsonl(rows: Iterable[Any]) -> None:
    _write("".join(orjson.dumps(row).decode("utf-8") + "\n" for row in rows))


def union_keys(rows: Iterable[Record]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def print_csv(rows: Sequence[Record]) -> None:
    import csv

    if not rows:
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    header = union_keys(rows)
    writer.writerow(header)
    for row in rows:
        writer.writerow([text_value(row.get(k)) for k in header])


def emit(data: Record | Sequence[Record], fmt: Format, table: Callable[[Any], None] | None = None) -> None:
    """Print a single result (a dict) or a list of results in ``fmt``; ``table`` draws the table view."""
    rows = [data] if isinstance(data, dict) else list(data)
    if fmt is Format.json:
        print_json(data if isinstance(data, dict) else rows)
    elif fmt is Format.jsonl:
        print_jsonl(rows)
    elif fmt is Format.csv:
        print_csv(rows)
    elif table is not None:
        table(data)
    elif isinstance(data, dict):
        detail_table(data)
    else:
        records_table(rows)


# -- rich tables -----------------------------------------------------------------------------------
def console(stderr: bool = False) -> Any:
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal:  # pipes: $COLUMNS when set, else 200 rather than squeezing tables into 80 columns
        out.width = shutil.get_terminal_size((200, 24)).columns
    return out


def new_table(*columns: str, title: str | None = None) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title) if title else None, title_justify="left")
    for name in columns:
        no_wrap = name in ("id", "short_name", "table")
        table.add_column(Text(name), no_wrap=no_wrap, overflow="fold")
    return table


def sized_table(columns: Sequence[tuple[str, int]], wrap: Collection[str] = ()) -> Any:
    """A table whose columns have exactly these widths (cells, without padding): the ``wrap`` columns wrap
    long text over several lines, the others keep one line (their values are made to fit beforehand)."""
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for name, width in columns:
        table.add_column(Text(name), width=width, no_wrap=name not in wrap, overflow="fold")
    return table


def free_cells(total: int, columns: int, fixed: Iterable[int] = ()) -> int:
    """The cells of a ``total``-wide table of ``columns`` columns left for the content of the columns not
    in ``fixed`` (the widths of the others), after borders and padding."""
    return total - (3 * columns + 1) - sum(fixed)


def add_row(table: Any, values: Iterable[str]) -> None:
    """Add cells as plain text (values are data, never rich markup)."""
    from rich.text import Text

    table.add_row(*(Text(v) for v in values))


def show(table: Any) -> None:
    console().print(table)


def records_table(rows: Sequence[Record], columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """One row per record, one column per key (or per ``columns``); long keys, uris and names
    (:data:`IDENTIFYING`) are shortened in the middle, other long values at the end."""
    columns = list(columns) if columns is not None else union_keys(rows)
    table = new_table(*columns, title=title)
    for row in rows:
        add_row(table, (cell(row.get(c), middle=c in IDENTIFYING) for c in columns))
    show(table)


def detail_table(record: Record, title: str | None = None) -> None:
    """A single record, one ``field | value`` line per key."""
    table = new_table("field", "value", title=title)
    for key, value in record.items():
        add_row(table, (key, cell(value, 100)))
    show(table)


def entity_columns(rows: Sequence[Record]) -> list[str]:
    """``id``, ``entity_type`` and the user fields of a list of entities (system timestamps left out)."""
    keys = [k for k in union_keys(rows) if k not in ("id", "entity_type", *SYSTEM_TAIL)]
    return ["id", "entity_type", *keys]


def entities_table(rows: Sequence[Record]) -> None:
    records_table(rows, entity_columns(rows))


def entity_detail(entity: Record) -> None:
    """One entity: id, entity_type, user fields, then timestamps and the number of edges."""
    shown = {k: v for k, v in entity.items() if k != "edges"}
    shown["edges"] = len(entity.get("edges") or [])
    detail_table(shown)


def print_entities(data: Record | Sequence[Record], fmt: Format) -> None:
    emit(data, fmt, lambda d: entity_detail(d) if isinstance(d, dict) else entities_table(d))


def message(text: str) -> None:
    """A human note on stderr (summaries, hints): never mixed into the data on stdout."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
