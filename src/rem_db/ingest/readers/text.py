"""Plain text: blank-line separated paragraphs, read line by line (a 50 MB file is never held whole)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..blocks import MAX_BLOCK_CHARS, Block, split_long, squash
from ..detect import Detected, FileProblem
from .registry import register_reader

MAX_LINE = 256 * 1024  # characters read at a time from a line


def open_text(path: Path, encoding: str) -> IO[str]:
    """A text stream in the detected encoding (universal newlines; decoding errors raise)."""
    return path.open("r", encoding=encoding, errors="strict", newline=None)


def lines(path: Path, encoding: str) -> Iterator[str]:
    """The lines of a text file without their line ends; a decoding error is a :class:`FileProblem`.

    A line longer than ``MAX_LINE`` characters comes in pieces cut at a space (so no word is split), which
    keeps memory bounded on files without line breaks."""
    carry = ""
    try:
        with open_text(path, encoding) as handle:
            while True:
                piece = handle.readline(MAX_LINE)
                if not piece:
                    break
                if piece.endswith("\n") or len(piece) < MAX_LINE:  # a whole line, or the last one
                    yield carry + piece.rstrip("\r\n")
                    carry = ""
                    continue
                piece = carry + piece
                cut = max(piece.rfind(" "), piece.rfind("\t"))
                if cut <= 0 or len(piece) > 4 * MAX_LINE:  # no space to cut at: a giant "word"
                    cut = len(piece)
                yield piece[:cut]
                carry = piece[cut:]
        if carry:
            yield carry
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not valid {encoding} text ({exc.reason} at byte {exc.start} of a read block)") from None


def read(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """Paragraphs of a text file (blank lines separate them); very long ones are cut at line breaks."""
    buffer: list[str] = []
    size = 0
    for line in lines(path, detected.encoding or "utf-8"):
        if not line.strip():
            if buffer:
                yield from _emit(buffer)
                buffer, size = [], 0
            continue
        buffer.append(line)
        size += len(line) + 1
        if size > MAX_BLOCK_CHARS:
            yield from _emit(buffer)
            buffer, size = [], 0
    if buffer:
        yield from _emit(buffer)


def _emit(buffer: list[str]) -> Iterator[Block]:
    text = squash("\n".join(buffer))
    for piece in split_long(text):
        yield Block(piece)


register_reader("text", read, content_type="text/plain", extensions=(".txt", ".text", ".rst", ".log"))
