"""HTML: ``h1``–``h6`` build the heading path, block elements (``p``, ``li``, ``pre``, table rows …) become
blocks, ``script``/``style``/``head`` are dropped, ``<title>`` goes to the document metadata. The file is
fed to the parser in pieces, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..blocks import LINE, MAX_BLOCK_CHARS, Block, one_line, split_long, squash
from ..detect import Detected, FileProblem
from .markdown import _Sections
from .registry import register_reader
from .text import open_text

FEED_CHARS = 256 * 1024
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote",
                     "ul", "ol", "dl", "dt", "dd", "li", "table", "thead", "tbody", "tfoot", "caption", "figure",
                     "figcaption", "form", "fieldset", "address", "details", "summary", "hr", "body", "html"})
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})


class _Parser(HTMLParser):
    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(convert_charrefs=True)
        self.info = info
        self.sections = _Sections()
        self.out: list[Block] = []
        self.text: list[str] = []
        self.size = 0  # characters in self.text
        self.skip = 0
        self.heading: int | None = None
        self.pre = 0
        self.in_title = False
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    # -- tags --------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if tag == "title":
            self.in_title = True
        elif tag in _HEADINGS:
            self._flush()
            self.heading = _HEADINGS[tag]
        elif tag == "tr":
            self._flush()
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "pre":
            self._flush()
            self.pre += 1
        elif tag == "br":
            self._data("\n")
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "title":
            self.in_title = False
        elif tag in _HEADINGS and self.heading is not None:
            title = one_line("".join(self.text))
            self.text, self.size = [], 0
            if title:
                self.out.append(Block(title, self.sections.enter(self.heading, title), heading=True))
            self.heading = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(one_line("".join(self.cell)))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            cells = [c for c in self.row if c]
            if cells:
                self.out.append(Block(" | ".join(cells), self.sections.path, sep=LINE))
            self.row = None
        elif tag == "pre":
            self._flush()
            self.pre = max(0, self.pre - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.info["title"] = one_line(self.info.get("title", "") + " " + data)
            return
        self._data(data if self.pre else data.replace("\r", " ").replace("\n", " "))

    # -- text --------------------------------------------------------------------------------------
    def _data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
            return
        self.text.append(data)
        self.size += len(data)
        if self.heading is None and self.size > MAX_BLOCK_CHARS:
            self._flush()

    def _flush(self) -> None:
        if not self.text:
            return
        if self.heading is not None:
            return  # a block tag inside a heading: the heading text keeps collecting
        raw = "".join(self.text)
        self.text, self.size = [], 0
        text = raw.strip("\n") if self.pre else squash(_collapse(raw))
        for piece in split_long(text):
            if piece.strip():
                self.out.append(Block(piece, self.sections.path))


def _collapse(raw: str) -> str:
    """Whitespace of HTML text to single spaces, keeping the line breaks of ``<br>`` (source line breaks
    were turned into spaces as the text was read)."""
    return "\n".join(one_line(line) for line in raw.split("\n") if line.strip())


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """Blocks of an HTML file, in document order."""
    parser = _Parser(info)
    try:
        with open_text(path, detected.encoding or "utf-8") as handle:
            while piece := handle.read(FEED_CHARS):
                parser.feed(piece)
                yield from parser.out
                parser.out = []
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not valid {detected.encoding} text ({exc.reason})") from None
    parser.close()
    parser._flush()
    yield from parser.out


register_reader("html", read, content_type="text/html", extensions=(".html", ".htm", ".xhtml"),
                sniff=("<!doctype html", "<html"))
