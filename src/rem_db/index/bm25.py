"""BM25 full-text index over the embedded text of a table (the lexical half of hybrid search, SPEC §6).

Postings live in the ``fulltext`` column family and change in the same atomic batch as the entity:
``tenant · table · "p" · term · id -> term frequency`` and ``tenant · table · "d" · id -> token count``; a batch
of many new documents writes them as one segment instead (index/bm25_segments.py). Per-table totals
(documents, tokens, segments) sit in ``meta`` and are kept in memory under the write lock.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import orjson

from ..storage.batch import Batch
from ..storage.keyspace import Keyspace, prefix_range
from ..storage.store import Store
from . import bm25_segments as segments
from .text_tokens import tokens

CF = "fulltext"
META = "meta"
K1 = 1.2
B = 0.75
_STASH = "bm25-stats"  # tables whose totals a batch changed (put once, just before it is written)
_SEGMENT_DOCS_CACHED = 1 << 22  # documents of cached segments (20 bytes each) before the cache starts over
_SEGMENTED = "bm25-segmented"  # table -> {id16: (segment, position)} a batch wrote into segments
_TF = [n.to_bytes(2, "big") for n in range(256)]


def _tf(count: int) -> bytes:
    """A term frequency as stored (2 bytes, capped at 65535)."""
    return _TF[count] if count < 256 else min(count, 65535).to_bytes(2, "big")


class FullTextIndex:
    """Writes and scores one tenant's BM25 postings."""

    def __init__(self, store: Store, keyspace: Keyspace) -> None:
        self.store = store
        self.ks = keyspace
        self._stats: dict[str, dict[str, int]] = {}
        self._prefixes: dict[tuple[str, str], bytes] = {}  # (table, term) -> posting key prefix (bounded)
        self._segments: dict[bytes, segments.Segment] = {}  # "s" key -> the segment's documents (bounded)
        self._segment_docs = 0

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
        """Drop a table's totals and segments (its single postings went with its rows)."""
        batch.delete(META, self._stats_key(table))
        if self.stats(table).get("segments"):
            for key in self.store.scan_keys(CF, *prefix_range(self.ks.fulltext_table(table))):
                batch.delete(CF, key)
        self._stats.pop(table, None)
        batch.stash.get(_STASH, set()).discard(table)

    def forget_stats(self) -> None:
        """Drop cached totals (after a failed write, they are re-read from the store)."""
        self._stats.clear()

    # -- writes (the caller holds the write lock) ----------------------------------------------------------
    def write(self, batch: Batch, table: str, id16: bytes, old_text: str | None, new_text: str | None) -> None:
        """Replace a document's postings (``None`` text = no document)."""
        if old_text == new_text:
            return
        old = Counter(tokens(old_text)) if old_text else Counter()
        new = Counter(tokens(new_text)) if new_text else Counter()
        if old_text is not None and new_text is not None and old == new:
            return
        stats = self.stats(table)
        old_total = sum(old.values())
        home = self._segment_home(batch, table, id16, old_text is not None)
        if home is not None:  # its old postings stay in the segment, marked stale: all new ones are single
            self._mark_stale(batch, table, home)
            old = Counter()
        prefix = self._posting_prefix
        for term in old.keys() - new.keys():
            batch.delete(CF, prefix(table, term) + id16)
        changed = [(term, tf) for term, tf in new.items() if old.get(term) != tf] if old else new.items()
        cached = self._prefixes.get  # inlined _posting_prefix hits: a document has dozens of terms
        batch.put_many(CF, [(cached((table, term)) or prefix(table, term)) + id16 for term, _ in changed],
                       [_tf(tf) for _, tf in changed])
        if old_text is not None:
            stats["docs"] -= 1
            stats["tokens"] -= old_total
        if new_text is not None:
            stats["docs"] += 1
            stats["tokens"] += sum(new.values())
            batch.put(CF, self.ks.doc_length(table, id16), sum(new.values()).to_bytes(4, "big"))
        else:
            batch.delete(CF, self.ks.doc_length(table, id16))
        self._stage_stats(batch, table)

    def write_many(self, batch: Batch, table: str, docs: list[tuple[bytes, str | None, str | None]]) -> None:
        """:meth:`write` for many documents ``(id16, old text, new text)`` of one batch: at least
        :data:`~.bm25_segments.SEGMENT_MIN` new ones are written as segments (index/bm25_segments.py)."""
        fresh = [(id16, text) for id16, old, text in docs if old is None and text]
        if len(fresh) < segments.SEGMENT_MIN:
            for doc in docs:
                self.write(batch, table, *doc)
            return
        for id16, old, text in docs:
            if not (old is None and text):
                self.write(batch, table, id16, old, text)
        for start in range(0, len(fresh), segments.SEGMENT_MAX):
            self._write_segment(batch, table, fresh[start:start + segments.SEGMENT_MAX])

    def _write_segment(self, batch: Batch, table: str, fresh: list[tuple[bytes, str]]) -> None:
        segment = segments.new_id()
        ids = [id16 for id16, _ in fresh]
        docs = [tokens(text) for _, text in fresh]
        lengths = [len(doc) for doc in docs]
        packed = segments.postings(docs)
        prefix = self._posting_prefix
        batch.put_many(CF, [prefix(table, term) + segment for term in packed], list(packed.values()))
        batch.put(CF, self.ks.segment_docs(table, segment), segments.documents(ids, lengths))
        batch.put_many(CF, [self.ks.doc_length(table, id16) for id16 in ids],
                       [segments.length_value(n, segment, p) for p, n in enumerate(lengths)])
        seen = batch.stash.setdefault(_SEGMENTED, {}).setdefault(table, {})
        for p, id16 in enumerate(ids):
            earlier = seen.get(id16)
            if earlier is not None:  # the same document twice in one batch: the later one counts
                self._mark_stale(batch, table, earlier)
            seen[id16] = (segment, p)
        stats = self.stats(table)
        stats["docs"] += len(ids)
        stats["tokens"] += sum(lengths)
        stats["segments"] = stats.get("segments", 0) + 1
        self._stage_stats(batch, table)

    def _segment_home(self, batch: Batch, table: str, id16: bytes, existed: bool) -> tuple[bytes, int] | None:
        """``(segment, position)`` if the document's postings live in a segment (a read, for tables with one)."""
        seen = batch.stash.get(_SEGMENTED)
        if seen is not None and id16 in seen.get(table, ()):
            return seen[table].pop(id16)
        if not existed or not self.stats(table).get("segments"):
            return None
        return segments.home(self.store.get(CF, self.ks.doc_length(table, id16)))

    def _mark_stale(self, batch: Batch, table: str, home: tuple[bytes, int]) -> None:
        """Make search skip a document's entries in its segment (``home``: segment, position)."""
        batch.put(CF, self.ks.segment_stale(table, home[0]) + home[1].to_bytes(2, "big"))

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

    # -- search ----------------------------------------------------------------------------------------
    def search(self, table: str, query: str, limit: int, allowed: Any = None) -> list[tuple[bytes, float]]:
        """Top ``limit`` ``(id16, bm25 score)``, best first (ties by id); ``allowed`` (a set of id16)
        restricts the documents."""
        terms = set(tokens(query))
        stats = self.stats(table)
        if not terms or stats["docs"] <= 0 or limit <= 0:
            return []
        avg = stats["tokens"] / stats["docs"]
        singles: dict[str, list[tuple[bytes, int]]] = {}
        in_segments: dict[bytes, list[tuple[str, np.ndarray, np.ndarray]]] = {}  # segment -> (term, pos, tf)
        df: dict[str, int] = {}
        for term in terms:
            singles[term] = self._read_term(table, term, in_segments)
        found: list[tuple[segments.Segment, list[tuple[str, np.ndarray, np.ndarray]]]] = []
        for segment, chunks in in_segments.items():
            docs = self._segment(table, segment)
            if docs is None:  # the table was dropped while this search read it
                continue
            live = self._live(table, segment, len(docs))
            if live is not None:
                chunks = [(t, p[live[p]], f[live[p]]) for t, p, f in chunks]
            found.append((docs, chunks))
            for term, positions, _ in chunks:
                df[term] = df.get(term, 0) + len(positions)
        idf = {}
        for term in terms:
            n = df.get(term, 0) + len(singles[term])
            idf[term] = math.log(1 + (stats["docs"] - n + 0.5) / (n + 0.5)) if n else 0.0
        scored = self._score_singles(table, singles, idf, avg, allowed)
        for docs, chunks in found:
            scored.extend(self._score_segment(docs, chunks, idf, avg, limit, allowed))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:limit]

    def _read_term(self, table: str, term: str,
                   in_segments: dict[bytes, list[tuple[str, np.ndarray, np.ndarray]]]) -> list[tuple[bytes, int]]:
        """The term's single postings ``(id16, tf)``; its segment postings go into ``in_segments``."""
        prefix = self.ks.posting_prefix(table, term)
        start = len(prefix)
        out: list[tuple[bytes, int]] = []
        for key, value in self.store.items(CF, *prefix_range(prefix)):
            if len(key) - start == 16:
                out.append((key[start:], int.from_bytes(value, "big")))
            else:
                in_segments.setdefault(key[start:], []).append((term, *segments.unpack(value)))
        return out

    def _score_singles(self, table: str, singles: dict[str, list[tuple[bytes, int]]], idf: dict[str, float],
                       avg: float, allowed: Any) -> list[tuple[bytes, float]]:
        postings: dict[bytes, list[tuple[float, int]]] = {}
        for term, hits in singles.items():
            for id16, tf in hits:
                if allowed is None or id16 in allowed:
                    postings.setdefault(id16, []).append((idf[term], tf))
        if not postings:
            return []
        ids = list(postings)
        lengths = self.store.multi_get(CF, [self.ks.doc_length(table, i) for i in ids])
        scored = []
        for id16, raw in zip(ids, lengths, strict=True):
            dl = int.from_bytes(raw[:4], "big") if raw else avg
            norm = K1 * (1 - B + B * dl / avg)
            scored.append((id16, sum(w * tf * (K1 + 1) / (tf + norm) for w, tf in postings[id16])))
        return scored

    @staticmethod
    def _score_segment(segment: segments.Segment, chunks: list[tuple[str, np.ndarray, np.ndarray]],
                       idf: dict[str, float], avg: float, limit: int, allowed: Any) -> list[tuple[bytes, float]]:
        """The segment's best ``limit`` documents (and any tied with the last), scored like single postings."""
        scores = np.zeros(len(segment))
        touched = np.zeros(len(segment), dtype=bool)
        for term, positions, tfs in chunks:
            norm = K1 * (1 - B + B * segment.lengths[positions] / avg)
            scores[positions] += idf[term] * tfs * (K1 + 1) / (tfs + norm)
            touched[positions] = True
        found = np.flatnonzero(touched)
        if allowed is not None:  # best first, the allowed ones until ``limit`` (and ties) are found
            kept: list[int] = []
            for p in found[np.argsort(-scores[found], kind="stable")].tolist():
                if len(kept) >= limit and scores[p] < scores[kept[-1]]:
                    break
                if segment.id_at(p) in allowed:
                    kept.append(p)
            return [(segment.id_at(p), float(scores[p])) for p in kept]
        if len(found) > limit:
            kth = np.partition(scores[found], len(found) - limit)[len(found) - limit]
            found = found[scores[found] >= kth]
        return [(segment.id_at(p), float(scores[p])) for p in found.tolist()]

    def _segment(self, table: str, segment: bytes) -> segments.Segment | None:
        """A segment's documents (cached: a segment never changes); None once its table was dropped."""
        key = self.ks.segment_docs(table, segment)
        docs = self._segments.get(key)
        if docs is None:
            raw = self.store.get(CF, key)
            if raw is None:
                return None
            if self._segment_docs > _SEGMENT_DOCS_CACHED:
                self._segments.clear()
                self._segment_docs = 0
            docs = self._segments[key] = segments.Segment(raw)
            self._segment_docs += len(docs)
        return docs

    def _live(self, table: str, segment: bytes, size: int) -> np.ndarray | None:
        """Which of a segment's entries are live (None: all of them); :meth:`_mark_stale` wrote the others."""
        prefix = self.ks.segment_stale(table, segment)
        stale = [int.from_bytes(key[-2:], "big") for key in self.store.scan_keys(CF, *prefix_range(prefix))]
        if not stale:
            return None
        live = np.ones(size, dtype=bool)
        live[stale] = False
        return live
