"""Full-text tokens: lower-cased, lightly stemmed words without stopwords (the terms of BM25, index/bm25.py)."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

_WORD = re.compile(r"\w+(?:[-.]\w+)*", re.UNICODE)  # identifiers joined by - _ . stay one match
_ASCII_WORD = re.compile(r"[0-9A-Za-z_]+(?:[-.][0-9A-Za-z_]+)*")  # the same on ASCII text, ~15 % faster
_PARTS = re.compile(r"[-_.]+")
STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had",
    "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if",
    "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might", "more", "most", "must", "my",
    "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours",
    "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so", "some", "such", "than", "that",
    "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves",
})


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light English suffix stripper (plurals, possessives, -ing/-ed), enough to match "cyclists" with
    "cyclist's" and "erupting" with "erupted"; words of four letters or fewer are left alone."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, lightly stemmed word tokens without stopwords and one-letter words (digits kept).

    An identifier joined by ``-``, ``_`` or ``.`` (``XJ-9000``, ``atlas_fund.v2``, ``5.25``) is a token as a
    whole and by its parts, so a search for the whole identifier prefers the text that has it exactly, and a
    search for a part still finds it."""
    lowered = text.lower()
    words = (_ASCII_WORD if lowered.isascii() else _WORD).findall(lowered)
    return list(chain.from_iterable(map(_word_tokens, words)))


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The tokens of one lower-cased word (cached: a corpus repeats its words)."""
    if _PARTS.search(word):
        word = word.strip("_")
        parts = [stem(p) for p in _PARTS.split(word) if _wanted(p)]
        if _PARTS.search(word):
            parts.append(word)
        return tuple(parts)
    return (stem(word),) if _wanted(word) else ()


def _wanted(word: str) -> bool:
    return bool(word) and word not in STOPWORDS and (len(word) > 1 or word.isdigit())
