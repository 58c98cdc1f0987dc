"""Markdown: ATX (``#``) and setext headings build the heading path; paragraphs, lists and tables are blocks
(their lines kept); fenced code is one verbatim block; YAML front matter is read for a ``title``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..blocks import MAX_BLOCK_CHARS, Block, split_long, squash
from ..detect import Detected
from .registry import register_reader
from .text import lines

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_LINES = 200


class _Sections:
    """The heading stack: ``enter(level, title)`` returns the new heading path."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> tuple[str, ...]:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.stack)


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """Blocks of a Markdown file, each with the heading path it sits under."""
    sections = _Sections()
    para: list[str] = []
    fence: str | None = None
    code: list[str] = []
    size = 0  # characters held in para or code
    source = _skip_front_matter(lines(path, detected.encoding or "utf-8"), info)

    def flush() -> Iterator[Block]:
        nonlocal size
        size = 0
        if para:
            text = squash("\n".join(para))
            para.clear()
            for piece in split_long(text):
                yield Block(piece, sections.path)

    for line in source:
        if fence is not None:
            if line.strip().startswith(fence):
                yield from _code(code, sections.path)
                fence, code, size = None, [], 0
            else:
                code.append(line)
                size += len(line) + 1
                if size > MAX_BLOCK_CHARS:
                    yield from _code(code, sections.path)
                    code, size = [], 0
            continue
        opened = _FENCE.match(line)
        if opened:
            yield from flush()
            fence, code = opened.group(1)[0] * len(opened.group(1)), []
            continue
        atx = _ATX.match(line)
        if atx:
            yield from flush()
            title = squash(atx.group(2) or "")
            if title:
                yield Block(title, sections.enter(len(atx.group(1)), title), heading=True)
            continue
        setext = _SETEXT.match(line)
        if setext and len(para) == 1 and para[0].strip():
            title = squash(para.pop())
            yield Block(title, sections.enter(1 if setext.group(1)[0] == "=" else 2, title), heading=True)
            continue
        if not line.strip() or (setext and not para):
            yield from flush()  # a blank line, or a thematic break (---) between paragraphs
            continue
        para.append(line)
        size += len(line) + 1
        if size > MAX_BLOCK_CHARS:
            yield from flush()
    if fence is not None:
        yield from _code(code, sections.path)
    yield from flush()


def _code(code: list[str], path: tuple[str, ...]) -> Iterator[Block]:
    text = "\n".join(code).strip("\n")
    if text.strip():
        for piece in split_long(text):
            yield Block(piece, path)


def _skip_front_matter(source: Iterator[str], info: dict[str, Any]) -> Iterator[str]:
    """Drop a leading ``---`` … ``---`` YAML block (keeping its ``title:``); other files pass unchanged."""
    first = next(source, None)
    if first is None:
        return
    if first.strip() != "---":
        yield first
        yield from source
        return
    held = [first]
    for line in source:
        held.append(line)
        if line.strip() in ("---", "...") and len(held) > 1:
            for entry in held[1:-1]:
                key, _, value = entry.partition(":")
                if key.strip().lower() == "title" and value.strip():
                    info["title"] = value.strip().strip("\"'")
            yield from source
            return
        if len(held) > _FRONT_MATTER_LINES:
            break
    yield from held
    yield from source


register_reader("markdown", read, content_type="text/markdown", extensions=(".md", ".markdown", ".mdown", ".mkd"))
