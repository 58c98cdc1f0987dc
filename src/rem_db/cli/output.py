"""Rendering of command results: rich tables (default), pretty JSON, JSON Lines and CSV on stdout.

JSON prints an object for a single result and an array for a list; JSON Lines one object per line;
CSV a header made of the union of the keys (in order of first appearance) with nested values as JSON.
Rich is imported only when a table is printed, to keep start-up fast.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from .state import Format

CELL_WIDTH = 60  # longest value shown in a table cell before it is cut with "…"
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


def cell(value: Any, width: int = CELL_WIDTH) -> str:
    """A value for a table cell: one line, at most ``width`` characters."""
    text = text_value(value).replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


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
        no_wrap = name in ("id", "short_name", "table", "lookup")
        table.add_column(Text(name), no_wrap=no_wrap, overflow="fold")
    return table


def add_row(table: Any, values: Iterable[str]) -> None:
    """Add cells as plain text (values are data, never rich markup)."""
    from rich.text import Text

    table.add_row(*(Text(v) for v in values))


def show(table: Any) -> None:
    console().print(table)


def records_table(rows: Sequence[Record], columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """One row per record, one column per key (or per ``columns``)."""
    columns = list(columns) if columns is not None else union_keys(rows)
    table = new_table(*columns, title=title)
    for row in rows:
        add_row(table, (cell(row.get(c)) for c in columns))
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
