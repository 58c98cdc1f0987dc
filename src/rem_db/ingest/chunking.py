"""Structure-following chunking inside a bound counted in model tokens.

Blocks (headings, paragraphs, rows) are packed into chunks of at most ``chunk_tokens`` tokens (the model's
``[CLS]``/``[SEP]`` included). A heading starts a new chunk, so a chunk never spans two sections and has one
heading path; a heading directly followed by its sub-heading stays with it. A block that does not fit the
current chunk starts the next one; a block larger than a chunk is cut at the best boundary in the second
half of the room: a sentence end or line break, else a space between words, else (a run without spaces
longer than a chunk) a punctuation boundary. Consecutive chunks of one section overlap by about
``overlap_tokens`` tokens, taken from the end of the previous chunk and starting at a word.

Each block is tokenized once (in batches); cuts and overlaps use the token offsets. WordPiece counts are
additive across whitespace and punctuation boundaries, so the size of a chunk is the sum of its parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError
from . import tokens
from .blocks import Block

ENCODE_BATCH = 256  # blocks tokenized per call ...
ENCODE_CHARS = 256 * 1024  # ... or fewer, when they hold this much text
MIN_CHUNK_TOKENS = 64
MAX_CHUNK_TOKENS = 8192
SENTENCE_END = frozenset(".!?;:…。")
_SPACE = frozenset(" \n\t\r")


@dataclass(frozen=True)
class ChunkSettings:
    """``chunk_tokens``: the bound per chunk in model tokens; ``overlap_tokens``: carried between chunks."""

    chunk_tokens: int = 256
    overlap_tokens: int = 32

    def __post_init__(self) -> None:
        size, overlap = self.chunk_tokens, self.overlap_tokens
        if isinstance(size, bool) or not isinstance(size, int) or not MIN_CHUNK_TOKENS <= size <= MAX_CHUNK_TOKENS:
            raise ConfigError(f"chunk_tokens must be a whole number from {MIN_CHUNK_TOKENS} to "
                              f"{MAX_CHUNK_TOKENS}, got {size!r}")
        if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap <= size // 2:
            raise ConfigError(f"overlap_tokens must be a whole number from 0 to half of chunk_tokens "
                              f"({size // 2}), got {overlap!r}")

    @property
    def budget(self) -> int:
        """Tokens of text per chunk (the bound less the model's two special tokens)."""
        return self.chunk_tokens - tokens.SPECIAL_TOKENS


@dataclass(slots=True)
class Chunk:
    """A chunk of a document: its text, heading path, page range (PDF) and size in model tokens."""

    ordinal: int
    text: str
    path: tuple[str, ...]
    page_start: int | None
    page_end: int | None
    tokens: int


class _Tokenized:
    """A block with its encoding; offsets and cut ranks are read only where a block is cut."""

    __slots__ = ("_offsets", "_words", "block", "enc", "n")

    def __init__(self, block: Block, enc: Any) -> None:
        self.block = block
        self.enc = enc
        self.n = len(enc)
        self._offsets: list[tuple[int, int]] | None = None
        self._words: list[int | None] | None = None

    @property
    def offsets(self) -> list[tuple[int, int]]:
        if self._offsets is None:
            self._offsets = self.enc.offsets
        return self._offsets

    def rank(self, i: int) -> int:
        """How good a cut before token ``i`` is: 3 sentence end or line break, 2 after a comma-like mark,
        1 between words, 0 at punctuation inside a word, -1 inside a word piece (never chosen if avoidable)."""
        if i <= 0 or i >= self.n:
            return 3
        offsets, text = self.offsets, self.block.text
        prev_end, start = offsets[i - 1][1], offsets[i][0]
        gap = text[prev_end:start]
        if not gap or (gap[0] not in _SPACE and not any(c.isspace() for c in gap)):  # e.g. a zero-width joiner
            if self._words is None:
                self._words = self.enc.word_ids
            return 0 if self._words[i] != self._words[i - 1] else -1
        if "\n" in gap or text[prev_end - 1] in SENTENCE_END:
            return 3
        return 2 if text[prev_end - 1] in ",)]" else 1

    def text(self, start: int, end: int) -> str:
        if start == 0 and end == self.n:
            return self.block.text
        offsets = self.offsets
        return self.block.text[offsets[start][0]:offsets[end - 1][1]]


@dataclass(slots=True)
class _Part:
    tok: _Tokenized
    start: int
    end: int


@dataclass
class _State:
    parts: list[_Part] = field(default_factory=list)
    used: int = 0  # tokens in the chunk (overlap included)
    fresh: int = 0  # tokens not carried over from the previous chunk
    headings_only: bool = True
    path: tuple[str, ...] = ()


class Chunker:
    """Turns a stream of blocks into chunks (``chunks(blocks)``), holding one chunk at a time.

    ``header_tokens(path)``: tokens of the context header embedded with a chunk under that heading path
    (:mod:`.context`); they come out of the chunk's budget, so header and text together fit the model."""

    def __init__(self, settings: ChunkSettings | None = None,
                 header_tokens: Callable[[tuple[str, ...]], int] | None = None) -> None:
        self.settings = settings or ChunkSettings()
        self.header_tokens = header_tokens
        self.min_piece = max(16, self.settings.budget // 8)
        self.ordinal = 0
        self.state = _State()

    def budget(self, path: tuple[str, ...]) -> int:
        """Tokens of text a chunk under ``path`` holds (the bound less special tokens and its header)."""
        if self.header_tokens is None:
            return self.settings.budget
        return max(self.settings.budget - self.header_tokens(path), self.min_piece)

    def chunks(self, blocks: Iterable[Block]) -> Iterator[Chunk]:
        for batch in _batches(blocks):
            encodings = tokens.encode_batch([b.text for b in batch])
            for block, enc in zip(batch, encodings, strict=True):
                if len(enc):
                    yield from self._add(_Tokenized(block, enc))
        yield from self._flush(overlap=False)

    # -- packing -----------------------------------------------------------------------------------
    def _add(self, tok: _Tokenized) -> Iterator[Chunk]:
        state, block = self.state, tok.block
        sub_heading = (block.heading and state.headings_only and len(block.path) > len(state.path)
                       and block.path[:len(state.path)] == state.path)
        if (block.heading or block.path != state.path) and not sub_heading:
            yield from self._flush(overlap=False)  # a new section: no overlap across it
        pos = 0
        budget = self.budget(block.path)
        while pos < tok.n:
            state = self.state
            room, rest = budget - state.used, tok.n - pos
            if rest <= room:
                self._append(tok, pos, tok.n)
                return
            if state.fresh and (rest <= budget - self.settings.overlap_tokens or room < self.min_piece):
                yield from self._flush(overlap=True, need=rest)
                continue
            end = self._cut(tok, pos, room)
            if end < 0:  # inside a single word piece: cut there and re-tokenize the rest
                end = pos + room
                self._append(tok, pos, end)
                rest_text = tok.block.text[tok.offsets[end][0]:]
                tok, pos = _Tokenized(replace(tok.block, text=rest_text), tokens.encode(rest_text)), 0
            else:
                self._append(tok, pos, end)
                pos = end
            yield from self._flush(overlap=True, need=tok.n - pos)

    def _append(self, tok: _Tokenized, start: int, end: int) -> None:
        state = self.state
        last = state.parts[-1] if state.parts else None
        if last is not None and last.tok is tok and last.end == start:
            last.end = end
        else:
            state.parts.append(_Part(tok, start, end))
        state.used += end - start
        state.fresh += end - start
        state.headings_only = state.headings_only and tok.block.heading
        state.path = tok.block.path

    def _cut(self, tok: _Tokenized, pos: int, room: int) -> int:
        """The token index to end a piece at: within ``pos + room``, the best rank, as late as possible;
        the second half of the room first. ``-1``: no boundary at all (one word piece run)."""
        limit = pos + room
        for low in (pos + room // 2, pos + 1):
            best, best_rank = -1, -1
            for i in range(limit, low - 1, -1):
                rank = tok.rank(i)
                if rank > best_rank:
                    best, best_rank = i, rank
                    if rank == 3:
                        break
            if best_rank >= 1 or (best_rank == 0 and low == pos + 1):
                return best
        return -1

    # -- emitting ----------------------------------------------------------------------------------
    def _flush(self, overlap: bool, need: int = 0) -> Iterator[Chunk]:
        state = self.state
        if state.fresh:
            yield self._chunk(state)
        tail = self._tail(state, need) if overlap and state.fresh else None
        self.state = _State(path=state.path)
        if tail is not None:
            self.state.parts.append(tail)
            self.state.used = tail.end - tail.start
            self.state.headings_only = False

    def _tail(self, state: _State, need: int) -> _Part | None:
        """The end of the last part, about ``overlap_tokens`` long, starting at a word (or ``None``). Table
        rows carry no overlap: each row holds its own labels, and a row's tail would be numbers without
        them."""
        want = self.settings.overlap_tokens
        budget = self.budget(state.path)
        if need < budget:
            want = min(want, budget - need)
        if want < min(8, self.settings.overlap_tokens) or not state.parts:
            return None
        last = state.parts[-1]
        if last.tok.block.row:
            return None
        first = max(last.start, last.end - want)
        if first == last.start:
            return _Part(last.tok, first, last.end)
        sentence = next((i for i in range(first, last.end - want // 2) if last.tok.rank(i) == 3), None)
        if sentence is not None:
            return _Part(last.tok, sentence, last.end)
        word = next((i for i in range(first, last.end) if last.tok.rank(i) >= 1), None)
        return _Part(last.tok, word, last.end) if word is not None else None

    def _chunk(self, state: _State) -> Chunk:
        pieces: list[str] = []
        pages = [p.tok.block.page for p in state.parts if p.tok.block.page is not None]
        for n, part in enumerate(state.parts):
            if n:
                pieces.append(part.tok.block.sep)
            pieces.append(part.tok.text(part.start, part.end))
        chunk = Chunk(self.ordinal, "".join(pieces), state.path, min(pages) if pages else None,
                      max(pages) if pages else None, state.used + tokens.SPECIAL_TOKENS)
        self.ordinal += 1
        return chunk


def _batches(blocks: Iterable[Block]) -> Iterator[list[Block]]:
    """Blocks in batches of ``ENCODE_BATCH`` or ``ENCODE_CHARS`` of text, whichever comes first."""
    batch: list[Block] = []
    size = 0
    for block in blocks:
        batch.append(block)
        size += len(block.text)
        if len(batch) >= ENCODE_BATCH or size >= ENCODE_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def chunk_blocks(blocks: Iterable[Block], settings: ChunkSettings | None = None,
                 header_tokens: Callable[[tuple[str, ...]], int] | None = None) -> Iterator[Chunk]:
    """Chunks of a block stream (see the module docstring and :class:`Chunker`)."""
    return Chunker(settings, header_tokens).chunks(blocks)
