"""BM25 full-text index over the embedded text of a table (the lexical half of hybrid search, SPEC §6).

Postings live in the ``fulltext`` column family and change in the same atomic batch as the entity:
``tenant · table · "p" · term · id -> term frequency`` and ``tenant · table · "d" · id -> token count``.
Per-table totals (documents, tokens) sit in ``meta`` and are kept in memory under the write lock.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import orjson

from ..storage.batch import Batch
from ..storage.keyspace import Keyspace, prefix_range
from ..storage.store import Store

CF = "fulltext"
META = "meta"
K1 = 1.2
B = 0.75
_STASH = "bm25-stats"  # tables whose totals a batch changed (put once, just before it is written)
_TF = [n.to_bytes(2, "big") for n in range(256)]


def _tf(count: int) -> bytes:
    """A term frequency as stored (2 bytes, capped at 65535)."""
    return _TF[count] if count < 256 else min(count, 65535).to_bytes(2, "big")


_WORD = re.compile(r"\w+(?:[-.]\w+)*", re.UNICODE)  # identifiers joined by - _ . stay one match
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
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        out.extend(_word_tokens(word))
    return out


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



class FullTextIndex:
    """Writes and scores one tenant's BM25 postings."""

    def __init__(self, store: Store, keyspace: Keyspace) -> None:
        self.store = store
        self.ks = keyspace
        self._stats: dict[str, dict[str, int]] = {}
        self._prefixes: dict[tuple[str, str], bytes] = {}  # (table, term) -> posting key prefix (bounded)

    def _stats_key(self, table: str) -> bytes:
        return self.ks.fulltext_stats(table)

    def stats(self, table: str) -> dict[str, int]:
        cached = self._stats.get(table)
        if cached is None:
            raw = self.store.get(META, self._stats_key(table))
            cached = orjson.loads(raw) if raw else {"docs": 0, "tokens": 0}
            self._stats[table] = cached
        return cached

    def forget(self, batch: Batch, table: str) -> None:
        """Drop a table's totals (its postings went with its rows)."""
        batch.delete(META, self._stats_key(table))
        self._stats.pop(table, None)
        batch.stash.get(_STASH, set()).discard(table)

    def forget_stats(self) -> None:
        """Drop cached totals (after a failed write, they are re-read from the store)."""
        self._stats.clear()

    def write(self, batch: Batch, table: str, id16: bytes, old_text: str | None, new_text: str | None) -> None:
        """Replace a document's postings (``None`` text = no document). Caller holds the write lock."""
        if old_text == new_text:
            return
        old = Counter(tokens(old_text)) if old_text else Counter()
        new = Counter(tokens(new_text)) if new_text else Counter()
        if old_text is not None and new_text is not None and old == new:
            return
        prefix = self._posting_prefix
        for term in old.keys() - new.keys():
            batch.delete(CF, prefix(table, term) + id16)
        changed = [(term, tf) for term, tf in new.items() if old.get(term) != tf] if old else new.items()
        cached = self._prefixes.get  # inlined _posting_prefix hits: a document has dozens of terms
        batch.put_many(CF, [(cached((table, term)) or prefix(table, term)) + id16 for term, _ in changed],
                       [_tf(tf) for _, tf in changed])
        stats = self.stats(table)
        if old_text is not None:
            stats["docs"] -= 1
            stats["tokens"] -= sum(old.values())
        if new_text is not None:
            stats["docs"] += 1
            stats["tokens"] += sum(new.values())
            batch.put(CF, self.ks.doc_length(table, id16), sum(new.values()).to_bytes(4, "big"))
        else:
            batch.delete(CF, self.ks.doc_length(table, id16))
        self._stage_stats(batch, table)

    def _stage_stats(self, batch: Batch, table: str) -> None:
        """Put the table's totals once per batch, as they are when it is written (not once per document)."""
        tables: set[str] | None = batch.stash.get(_STASH)
        if tables is None:
            tables = batch.stash[_STASH] = set()
            batch.before_write.append(lambda: self._put_stats(batch, tables))
        tables.add(table)

    def _put_stats(self, batch: Batch, tables: set[str]) -> None:
        for table in tables:
            batch.put(META, self._stats_key(table), orjson.dumps(self.stats(table)))

    def _posting_prefix(self, table: str, term: str) -> bytes:
        """``ks.posting_prefix`` cached: a bulk load writes the same terms again and again."""
        raw = self._prefixes.get((table, term))
        if raw is None:
            if len(self._prefixes) >= 1 << 17:
                self._prefixes.clear()
            raw = self._prefixes[(table, term)] = self.ks.posting_prefix(table, term)
        return raw

    def search(self, table: str, query: str, limit: int, allowed: Any = None) -> list[tuple[bytes, float]]:
        """Top ``limit`` ``(id16, bm25 score)``; ``allowed`` (a set of id16) restricts the documents."""
        terms = set(tokens(query))
        stats = self.stats(table)
        if not terms or stats["docs"] <= 0:
            return []
        avg = stats["tokens"] / stats["docs"]
        postings: dict[bytes, list[tuple[float, int]]] = {}
        for term in terms:
            lower, upper = prefix_range(self.ks.posting_prefix(table, term))
            hits = [(k[-16:], int.from_bytes(v, "big")) for k, v in self.store.items(CF, lower, upper)]
            if not hits:
                continue
            idf = math.log(1 + (stats["docs"] - len(hits) + 0.5) / (len(hits) + 0.5))
            for id16, tf in hits:
                if allowed is None or id16 in allowed:
                    postings.setdefault(id16, []).append((idf, tf))
        if not postings:
            return []
        ids = list(postings)
        lengths = self.store.multi_get(CF, [self.ks.doc_length(table, i) for i in ids])
        scored = []
        for id16, raw in zip(ids, lengths, strict=True):
            dl = int.from_bytes(raw, "big") if raw else avg
            norm = K1 * (1 - B + B * dl / avg)
            scored.append((id16, sum(idf * tf * (K1 + 1) / (tf + norm) for idf, tf in postings[id16])))
        scored.sort(key=lambda item: -item[1])
        return scored[:limit]
