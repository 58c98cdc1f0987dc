"""XLSX with openpyxl in read-only mode (rows are streamed): each sheet is a section (a heading block with
the sheet name) of row blocks. The first row of labels in a region (rows between blank rows) is a header; the rows under
it are written ``label: value | label: value``. Formula cells give their cached values."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..blocks import LINE, Block, one_line
from ..detect import Detected, FileProblem
from .docx import is_header
from .registry import register_reader


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """A heading block per non-empty sheet, then its rows."""
    book = _open(path)
    sheets: list[str] = []
    try:
        for sheet in book.worksheets:
            title = one_line(str(sheet.title)) or "Sheet"
            path_ = (title,)
            started = False
            header: list[str] | None = None
            for raw in _rows(sheet, path):
                cells = [_cell(v) for v in raw]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    header = None  # a blank row ends a region
                    continue
                if not started:
                    sheets.append(title)
                    yield Block(f"Sheet: {title}", path_, heading=True)
                    started = True
                if header is None and is_header(cells):
                    header = cells
                    yield Block(" | ".join(c for c in cells if c), path_, row=True)
                    continue
                # rows under a header sit under a "columns" heading: a chunk of rows carries in its context
                # what its columns are, even when they are cut off in its own text
                yield Block(_row_text(cells, header), (*path_, _columns(header)) if header else path_, sep=LINE,
                            row=True)
    finally:
        book.close()
    info["sheets"] = sheets


def _open(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise FileProblem(f"corrupt XLSX ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # openpyxl raises many types on broken packages
        raise FileProblem(f"corrupt XLSX ({type(exc).__name__}: {exc})") from None


def _rows(sheet: Any, path: Path) -> Iterator[tuple[Any, ...]]:
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:
        raise FileProblem(f"corrupt XLSX: sheet {sheet.title!r} cannot be read ({type(exc).__name__}: {exc})") \
            from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return one_line(str(value))


def _row_text(cells: list[str], header: list[str] | None) -> str:
    if header is None:
        return " | ".join(c for c in cells if c)
    parts = []
    for n, value in enumerate(cells):
        if not value:
            continue
        label = header[n] if n < len(header) else ""
        parts.append(f"{label}: {value}" if label else value)
    return " | ".join(parts)


register_reader("xlsx", read, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                extensions=(".xlsx",), binary=True, zip_part="xl/workbook.xml")


def _columns(header: list[str]) -> str:
    """A region's columns as a heading: ``columns: Category, M1, M2, …, M24, 24-Mo Total`` (long headers keep
    their first three and last two labels)."""
    labels = [c for c in header if c]
    if len(labels) > 6:
        labels = [*labels[:3], "…", *labels[-2:]]
    return "columns: " + ", ".join(labels)
