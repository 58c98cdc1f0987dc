"""What readers produce: a stream of text blocks (headings, paragraphs, table rows) with their place in the
document (heading path, page). The chunker packs blocks into chunks; readers never decide chunk sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass

PARAGRAPH = "\n\n"
LINE = "\n"
MAX_BLOCK_CHARS = 64 * 1024  # readers cut longer paragraphs, so memory stays bounded on huge files

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUNS = re.compile(r"\n\s*\n\s*")


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of document text.

    ``heading``: the block is a heading (it starts a section; ``path`` already includes it). ``path``: the
    heading path the block sits under. ``page``: 1-based page (PDF), else ``None``. ``sep``: how the block
    is joined to the block before it inside a chunk (a blank line; table rows and list items: a newline).
    ``row``: a table or spreadsheet row (it starts no overlap into the next chunk).
    """

    text: str
    path: tuple[str, ...] = ()
    page: int | None = None
    heading: bool = False
    sep: str = PARAGRAPH
    row: bool = False


def squash(text: str) -> str:
    """Runs of spaces and tabs to one space, spaces around line breaks removed, outer whitespace stripped."""
    return "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n")).strip()


def one_line(text: str) -> str:
    """All whitespace, line breaks included, to single spaces."""
    return " ".join(text.split())


def split_long(text: str, limit: int = MAX_BLOCK_CHARS) -> list[str]:
    """Cut text longer than ``limit`` characters at line breaks (else spaces) into pieces of at most
    ``limit`` characters, so one giant paragraph never becomes one giant block."""
    if len(text) <= limit:
        return [text]
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = text.rfind(" ", limit // 2, limit)
        if cut < 0:
            cut = limit
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return [p for p in pieces if p]


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs of ``text``, whitespace-normalised, empty ones dropped."""
    return [p for p in (squash(part) for part in _BLANK_RUNS.split(text)) if p]
