"""Chunking: the size bound in model tokens, overlap, no word split, heading paths and page ranges.

Property tests generate documents of unique words (so a chunk's place in the source is unambiguous) and
check every chunk against the real tokenizer of the embedding model."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import contains_words, words

from rem_db.errors import ConfigError
from rem_db.ingest import ChunkSettings, chunk_blocks
from rem_db.ingest.blocks import Block
from rem_db.ingest.blocks import paragraphs as split_paragraphs
from rem_db.ingest.tokens import count

SYLLABLES = ["ka", "lo", "mir", "tes", "un", "bra", "qui", "zo", "pel", "ar", "nox", "vi"]


@st.composite
def documents(draw: st.DrawFn) -> list[tuple[tuple[str, ...], list[str]]]:
    """Sections ``(heading path, paragraphs)``; every word is unique (``<syllables><n>``), sentences end
    with a period, some paragraphs are far longer than a chunk. The shape is drawn; the words come from a
    drawn seed (drawing each word would make examples slow)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    counter = iter(range(10**6))

    def paragraph(sentences: int) -> str:
        return " ".join(" ".join("".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) + str(next(counter))
                                 for _ in range(rng.randint(1, 25))) + "."
                        for _ in range(sentences))

    shape = draw(st.lists(st.lists(st.integers(1, 10), min_size=1, max_size=4), min_size=1, max_size=4))
    return [((f"Part{n}",) if n else (), [paragraph(sentences) for sentences in section])
            for n, section in enumerate(shape)]


def blocks_of(sections: list[tuple[tuple[str, ...], list[str]]]) -> list[Block]:
    out = []
    for path, paragraphs in sections:
        if path:
            out.append(Block(path[-1], path, heading=True))
        out.extend(Block(p, path) for p in paragraphs)
    return out


def section_text(path: tuple[str, ...], paragraphs: list[str]) -> str:
    return " ".join(([path[-1]] if path else []) + paragraphs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from([(64, 8), (128, 16), (256, 32), (256, 0)]))
def test_chunks_respect_the_bound_the_overlap_and_word_boundaries(sections, sizes) -> None:
    size, overlap = sizes
    chunks = list(chunk_blocks(blocks_of(sections), ChunkSettings(size, overlap)))
    texts = {path: words(section_text(path, paragraphs)) for path, paragraphs in sections}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for chunk in chunks:
        # the bound, counted by the model's own tokenizer ([CLS] and [SEP] included)
        assert count(chunk.text) == chunk.tokens <= size
        # the chunk lies inside the one section its heading path names, made of whole words
        source = texts[chunk.path]
        assert contains_words(source, chunk.text), chunk.text
        start = f" {source} ".index(f" {words(chunk.text)} ")
        covered.setdefault(chunk.path, []).append((start, start + len(words(chunk.text))))
        assert chunk.page_start is None and chunk.page_end is None
    for path, spans in covered.items():
        # chunks of a section follow each other, cover it all, and consecutive ones share at most the overlap
        assert spans[0][0] == 0 and spans[-1][1] == len(texts[path])
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start <= end + 1  # no gap: the next chunk starts at or before the end of the previous
            if start < end:
                shared = texts[path][start:end]
                assert overlap and count(shared) - 2 <= overlap
    assert set(covered) == {path for path, _ in sections}


MIXED = list("abcxyzéüßø漢字かな한글😀🚀.,;:!?-–—()[]{}'\"/\\@#$%^&*_+=|<>~`0123456789 \n\t\u200b\u00a0\u0301")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.sampled_from(MIXED), max_size=3000), min_size=1, max_size=4),
       st.sampled_from([(64, 8), (128, 32), (256, 32)]))
def test_any_text_stays_within_the_bound_and_loses_nothing(texts: list[str], sizes: tuple[int, int]) -> None:
    """Scripts, emoji, punctuation runs without spaces, zero-width and combining characters."""
    blocks = [Block(p) for text in texts for p in split_paragraphs(text)]
    chunks = list(chunk_blocks(blocks, ChunkSettings(*sizes)))
    for chunk in chunks:
        assert count(chunk.text) == chunk.tokens <= sizes[0]
    visible = {c for b in blocks for c in b.text if not c.isspace()} - {"\u200b", "\u0301"}
    assert visible <= {c for chunk in chunks for c in chunk.text}


def test_long_paragraphs_are_cut_at_sentence_ends_and_overlap() -> None:
    sentence = "The quarterly revenue grew by nine percent while margins fell four points."
    text = " ".join([sentence] * 60)  # ~ 900 tokens, one paragraph
    chunks = list(chunk_blocks([Block(text)], ChunkSettings(128, 16)))
    assert len(chunks) >= 7
    for chunk in chunks:
        assert count(chunk.text) <= 128
        # cut after a full stop, and the overlap starts at a sentence too: every chunk is whole sentences
        assert chunk.text.startswith("The quarterly") and chunk.text.endswith("four points.")
    # consecutive chunks share the last sentence (~15 tokens, within the 16-token overlap)
    assert all(a.text.endswith(sentence) and b.text.startswith(sentence) for a, b in itertools.pairwise(chunks))
    assert sum(c.text.count(sentence) for c in chunks) == 60 + len(chunks) - 1


def test_a_run_without_spaces_longer_than_a_chunk_is_cut_at_punctuation() -> None:
    numbers = ",".join(str(n) for n in range(400))  # ~800 tokens, no whitespace at all
    chunks = list(chunk_blocks([Block(numbers)], ChunkSettings(64, 8)))
    assert len(chunks) > 10
    assert all(count(c.text) <= 64 for c in chunks)
    rebuilt = set()
    for chunk in chunks:
        rebuilt.update(p for p in chunk.text.split(",") if p)
    assert {str(n) for n in range(400)} <= rebuilt | {c.text.split(",")[0] for c in chunks}


def test_headings_start_chunks_and_nest() -> None:
    blocks = [
        Block("Term Sheet", ("Term Sheet",), heading=True),
        Block("Between two companies.", ("Term Sheet",)),
        Block("1 Purpose", ("Term Sheet", "1 Purpose"), heading=True),
        Block("2 Structure", ("Term Sheet", "2 Structure"), heading=True),
        Block("2.1 Pilot", ("Term Sheet", "2 Structure", "2.1 Pilot"), heading=True),
        Block("Fifty pilot sites.", ("Term Sheet", "2 Structure", "2.1 Pilot")),
    ]
    chunks = list(chunk_blocks(blocks))
    assert [(c.path, c.text) for c in chunks] == [
        (("Term Sheet",), "Term Sheet\n\nBetween two companies."),
        (("Term Sheet", "1 Purpose"), "1 Purpose"),  # a heading with no text of its own
        (("Term Sheet", "2 Structure", "2.1 Pilot"), "2 Structure\n\n2.1 Pilot\n\nFifty pilot sites."),
    ]


def test_page_ranges_and_row_separators() -> None:
    blocks = [Block(f"Row {n}: value {n * 7} units", ("Sheet1",), page=1 + n // 10, sep="\n") for n in range(40)]
    chunks = list(chunk_blocks(blocks, ChunkSettings(64, 0)))
    assert chunks[0].page_start == 1
    assert chunks[-1].page_end == 4
    for chunk in chunks:
        first = int(chunk.text.split(":")[0].split()[-1])
        last = int(chunk.text.strip().splitlines()[-1].split(":")[0].split()[-1])
        assert (chunk.page_start, chunk.page_end) == (1 + first // 10, 1 + last // 10)
        assert "\n\n" not in chunk.text  # rows are joined line by line


def test_blocks_without_tokens_are_ignored_and_empty_input_gives_no_chunk() -> None:
    assert list(chunk_blocks([])) == []
    assert list(chunk_blocks([Block("\u200b\u200b")])) == []


@pytest.mark.parametrize(("size", "overlap"), [(10, 0), (100000, 0), (256, 200), (256, -1), (True, 0)])
def test_bad_settings_are_config_errors(size: int, overlap: int) -> None:
    with pytest.raises(ConfigError, match=r"chunk_tokens|overlap_tokens"):
        ChunkSettings(size, overlap)
