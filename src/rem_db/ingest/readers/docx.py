"""DOCX with python-docx: paragraphs and tables in document order. ``Title`` and ``Heading N`` styles (or an
outline level) build the heading path; a table becomes one block per row, with the header row's labels in
front of each value (``Metric: NOI | Value: 770 k``) so a row found alone still says what its values are."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..blocks import LINE, Block, one_line, split_long, squash
from ..detect import Detected, FileProblem
from .markdown import _Sections
from .registry import register_reader

_LIST_STYLES = ("List", "Bullet", "Number")


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """Blocks of a Word document."""
    document = _open(path)
    try:
        title = one_line(document.core_properties.title or "")
    except Exception:  # core properties are optional
        title = ""
    if title:
        info["title"] = title
    sections = _Sections()
    tables = 0
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            tables += 1
            yield from _table(item, sections.path)
            continue
        text = squash(item.text or "")
        if not text:
            continue
        level = _heading_level(item)
        if level is not None:
            title = one_line(text)
            yield Block(title, sections.enter(level, title), heading=True)
        else:
            for piece in split_long(text):
                yield Block(piece, sections.path, sep=LINE if _is_list(item) else "\n\n")
    info["tables"] = tables


def _open(path: Path) -> Any:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileProblem(f"corrupt DOCX ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # lxml and python-docx raise many types on broken XML
        raise FileProblem(f"corrupt DOCX ({type(exc).__name__}: {exc})") from None


def _style_name(paragraph: Any) -> str:
    try:
        return paragraph.style.name or "" if paragraph.style is not None else ""
    except (KeyError, AttributeError, ValueError):
        return ""


def _heading_level(paragraph: Any) -> int | None:
    name = _style_name(paragraph)
    if name == "Title":
        return 1
    if name.startswith("Heading"):
        digits = name[len("Heading"):].strip()
        return int(digits) + 1 if digits.isdigit() else 2  # Title is level 1, Heading 1 level 2, ...
    return None


def _is_list(paragraph: Any) -> bool:
    name = _style_name(paragraph)
    return any(word in name for word in _LIST_STYLES)


def _table(table: Any, path: tuple[str, ...]) -> Iterator[Block]:
    rows = []
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(one_line(cell.text or ""))
        if any(cells):
            rows.append(cells)
    yield from table_rows(rows, path)


def table_rows(rows: list[list[str]], path: tuple[str, ...]) -> Iterator[Block]:
    """One block per row; when the first row looks like a header (all text, no numbers), later rows are
    written ``label: value | label: value``."""
    if not rows:
        return
    header = rows[0] if len(rows) > 1 and is_header(rows[0]) else None
    if header is not None:
        yield Block(" | ".join(c for c in header if c), path, sep="\n\n", row=True)
    for n, cells in enumerate(rows[1:] if header is not None else rows):
        if header is not None and len(cells) == len(header):
            text = " | ".join(f"{label}: {value}" if label else value
                              for label, value in zip(header, cells, strict=True) if value)
        else:
            text = " | ".join(c for c in cells if c)
        if text:
            yield Block(text, path, sep=LINE if header is not None or n else "\n\n", row=True)


def is_header(cells: list[Any]) -> bool:
    """At least two filled cells (one blank corner allowed), all text, none of them a number."""
    values = [c for c in cells if c not in (None, "")]
    return len(values) >= 2 and len(cells) - len(values) <= 1 and all(
        isinstance(c, str) and not _numeric(c) for c in values)


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("%", "").replace("$", "").strip())
    except ValueError:
        return False
    return True


register_reader("docx", read, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                extensions=(".docx",), binary=True, zip_part="word/document.xml")
