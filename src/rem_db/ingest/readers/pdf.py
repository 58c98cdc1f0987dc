"""PDF with pypdf, page by page (each block keeps its 1-based page number).

Text comes from pypdf's layout mode, which keeps line breaks and blank lines between paragraphs (the plain
mode of many office PDFs yields one word per line); runs of spaces (column gaps) are collapsed, blank lines
separate paragraphs. A page layout mode cannot read falls back to plain extraction, whose one-word-per-line
output is joined back into running text. Encrypted PDFs are opened with the empty password when that works.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..blocks import Block, paragraphs, split_long
from ..detect import Detected, FileProblem
from .registry import register_reader

log = logging.getLogger("rem_db.ingest")
_SHORT_LINES = 0.6  # share of one-word lines above which plain-mode text is re-flowed


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """Paragraph blocks of every page, in order. The file is read through an open handle (given a path,
    pypdf would load it whole), so memory follows the pages being read, not the file size."""
    with path.open("rb") as handle:
        yield from _read(_open(handle), path, info)


def _read(reader: Any, path: Path, info: dict[str, Any]) -> Iterator[Block]:
    try:
        count = len(reader.pages)
    except Exception as exc:  # pypdf raises many types for broken page trees
        raise FileProblem(f"corrupt PDF ({_why(exc)})") from None
    info["pages"] = count
    title = _title(reader)
    if title:
        info["title"] = title
    if count == 0:
        raise FileProblem("PDF has no pages", failed=False)
    found = False
    for number in range(count):
        for text in paragraphs(_page_text(reader, number, path)):
            for piece in split_long(text):
                found = True
                yield Block(piece, page=number + 1)
    if not found:
        raise FileProblem(f"no extractable text in {count} page{'s' if count != 1 else ''} (a scanned PDF? "
                          f"OCR is not supported)", failed=False)


def _open(handle: Any) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(handle)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError) as exc:
        raise FileProblem(f"corrupt PDF ({_why(exc)})") from None
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise FileProblem(f"encrypted PDF that needs a cryptography library: {exc}") from None
        except Exception as exc:
            raise FileProblem(f"encrypted PDF that cannot be opened ({_why(exc)})") from None
        if not opened:
            raise FileProblem("encrypted PDF: a password is needed to read it")
    return reader


def _title(reader: Any) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:  # metadata is optional; a broken info dictionary is not fatal
        return None
    return " ".join(str(title).split()) or None if title else None


def _page_text(reader: Any, number: int, path: Path) -> str:
    try:
        page = reader.pages[number]
    except Exception as exc:
        raise FileProblem(f"corrupt PDF: page {number + 1} cannot be read ({_why(exc)})") from None
    try:
        return page.extract_text(extraction_mode="layout")
    except Exception as exc:  # layout mode fails on some fonts and page geometries
        log.debug("%s page %d: layout extraction failed (%s); using plain mode", path, number + 1, exc)
    try:
        return reflow(page.extract_text() or "")
    except Exception as exc:
        raise FileProblem(f"corrupt PDF: no text from page {number + 1} ({_why(exc)})") from None


def reflow(text: str) -> str:
    """Plain-mode text whose lines are mostly single words, joined back into running text (blank-line
    paragraph breaks are kept); other text is returned unchanged."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or sum(1 for line in lines if len(line.split()) <= 1) / len(lines) < _SHORT_LINES:
        return text
    return "\n\n".join(" ".join(part.split()) for part in re.split(r"\n[ \t]*\n[ \t]*\n", text))


def _why(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


register_reader("pdf", read, content_type="application/pdf", extensions=(".pdf",), binary=True, magic=b"%PDF-",
                magic_window=1024)
