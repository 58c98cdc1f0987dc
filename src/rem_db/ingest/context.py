"""The context every chunk of a document carries (contextual chunk headers): the document's title and the
chunk's heading path (for spreadsheets: the sheet name), joined as the chunk's ``name`` — ``"Title › Heading"``.

The chunk table embeds and BM25-indexes ``name`` before ``content`` (``embedding_fields`` of ``resources``),
so every chunk is found by its document's title and section, while ``content`` stays the document's own text.

The title is the reader's metadata title unless it is generic (``Word Document``, ``Microsoft Word - x.docx``,
``Untitled``, ``Sheet1`` …); a number prefix some exporters add (``61 - Market Brief``) is dropped. Without a
usable title, the document's first heading is used (not for spreadsheets, whose headings are sheet names),
else the file name without extension and leading id (``doc-001-glenview-warehouse.pdf`` -> ``glenview
warehouse``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..search.names import readable_stem
from . import tokens

SEPARATOR = " › "
MAX_TITLE_CHARS = 200
#: at most this share of a chunk's token budget goes to its header; longer headers are shortened
HEADER_SHARE = 4

_NUMBER_PREFIX = re.compile(r"^\d{1,3}\s+[-–—:]\s+")
_OFFICE_PREFIX = re.compile(r"^microsoft\s+(word|excel|powerpoint)\s*-\s*", re.IGNORECASE)
_GENERIC = re.compile(
    r"^(word document|document\s*\d*|untitled(\s+document)?|no title|title|sheet\s*\d*|book\s*\d*|"
    r"workbook\s*\d*|presentation\s*\d*|powerpoint presentation|slide\s*\d*|page\s*\d*|new document)$",
    re.IGNORECASE)
_FILE_LIKE = re.compile(r"\.(docx?|xlsx?|pdf|pptx?|txt|md|html?|rtf|odt)$", re.IGNORECASE)


def usable_title(title: str | None) -> str | None:
    """``title`` without an exporter's number prefix, or ``None`` when it is empty or generic."""
    if not title:
        return None
    text = " ".join(title.split())
    text = _NUMBER_PREFIX.sub("", text)
    if text.startswith("[") and text.endswith("]"):  # "[DOC ID: 003 | DEAL: …]"
        text = text[1:-1].strip()
    if _OFFICE_PREFIX.match(text) or _GENERIC.match(text) or _FILE_LIKE.search(text):
        return None
    return text[:MAX_TITLE_CHARS] or None


def document_title(metadata_title: str | None, first_heading: str | None, file_name: str) -> str:
    """The title a document's chunks carry (see the module docstring)."""
    return (usable_title(metadata_title) or usable_title(first_heading) or readable_stem(file_name))


@dataclass
class ChunkContext:
    """Builds the ``name`` of each chunk of one document and counts its tokens (cached per heading path)."""

    title: str
    budget: int  # the chunk's token budget; a header never takes more than a quarter of it
    _cache: dict[tuple[str, ...], tuple[str, int]] | None = None

    def name(self, path: tuple[str, ...]) -> str:
        return self._entry(path)[0]

    def header_tokens(self, path: tuple[str, ...]) -> int:
        """Tokens the header of a chunk under ``path`` adds to its embedded text."""
        return self._entry(path)[1]

    def _entry(self, path: tuple[str, ...]) -> tuple[str, int]:
        if self._cache is None:
            self._cache = {}
        entry = self._cache.get(path)
        if entry is None:
            # generic parts ("Sheet1") say nothing about the chunk
            parts = [self.title, *(p for p in path if p != self.title and usable_title(p) not in (None, self.title))]
            name = SEPARATOR.join(parts)
            entry = _shorten(name, self.budget // HEADER_SHARE)
            if len(self._cache) < 4096:
                self._cache[path] = entry
        return entry


def _shorten(name: str, limit: int) -> tuple[str, int]:
    """``name`` and its token count, cut at a word to at most ``limit`` tokens (with an ellipsis)."""
    enc = tokens.encode(name)
    if len(enc) <= limit:
        return name, len(enc)
    end = enc.offsets[max(limit - 1, 1) - 1][1]
    cut = name[:end].rsplit(" ", 1)[0] if " " in name[:end] else name[:end]
    short = cut.rstrip(" ›") + "…"
    return short, len(tokens.encode(short))
