"""Fuzzy key lookup (SPEC §4): typo-, case- and word-order-tolerant matching over every key value of a tenant.

Candidates come from the key index (``uri``, key field, ``key``, ``name`` of every table). Each distinct key
value is normalised (:func:`normalise`: lower case, every run of non-alphanumeric characters one space) and
cut into trigrams (index/trigrams.py). A query keeps the :data:`CANDIDATES` values sharing the most trigrams
with it relative to both lengths (Dice), and rapidfuzz scores those (:func:`score`: the best of whole-string
and word-sorted similarity, and a damped partial match, so typos, word order and a missing tail are
tolerated). Exact matches (the key value equals the key, case and all) come first with score 1.0; every
other match scores at most :data:`NOT_EXACT_CAP` and at least :data:`MIN_SCORE`. One result per entity: the
score of its best key value.

The trigram index lives in memory (numpy arrays, plus the key values and their normalised forms), built on
the first fuzzy call by one scan of the key index. It is kept current from the WAL: before each query, the
records committed since the index was built (or last caught up) are read and their key index operations go
into a small overlay (changed values, scored by brute force, masking their base entry). When the WAL cannot
answer (turned off, trimmed, or too far behind) or the overlay grows past :data:`MAX_OVERLAY` values, the
index is rebuilt from the key index instead. A read-only open builds it once; a secondary open catches up
as its sequence moves.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from ..storage.codec import decode_str
from ..storage.keyspace import Keyspace
from ..storage.store import Store
from .keys import CF, KeyIndex
from .trigrams import TrigramIndex

#: Lowest score a fuzzy match may have (0-1): below it a query returns nothing rather than noise. On 100k names,
#: random strings score at most 0.69, and 99 % of the names with one or two typos at least 0.87
#: (bench/bench_fuzzy.py prints both distributions).
MIN_SCORE = 0.75
#: A query as part of a longer key (:func:`score`) counts this much of a whole-string match, from this many
#: characters of the normalised query on (shorter ones are parts of too many keys).
PARTIAL_WEIGHT = 0.8
PARTIAL_MIN = 4
#: The highest score of a match that is not exact (1.0 means "this key value, exactly").
NOT_EXACT_CAP = 0.99
#: Key values scored per query (the best by trigram overlap); a large ``limit`` raises it to ``4 * limit``.
CANDIDATES = 128
#: Changed key values held beside the base index before it is rebuilt.
MAX_OVERLAY = 4096
#: WAL records read to catch up before a rebuild is cheaper (a record may hold a 1,000-row batch).
MAX_REPLAY = 64


def normalise(text: str) -> str:
    """A key value as fuzzy matching compares it: lower case, non-alphanumerics turned to single spaces."""
    return " ".join(default_process(text).split())


def score(query: str, choices: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, ratios)`` (0-100, float32) of normalised ``choices`` against a normalised query.

    The score is the best of: ``ratio`` (Indel similarity of the whole strings: typos), ``token_sort_ratio``
    (the same with the words sorted: word order) and, for a query of :data:`PARTIAL_MIN` characters or more
    and a key at least as long, :data:`PARTIAL_WEIGHT` x ``partial_ratio`` (the query as a part of the key,
    ``"monstera"`` in ``"monstera deliciosa"``). Ties rank by ``ratio``: the key closest in length first."""
    ratios = process.cdist([query], choices, scorer=fuzz.ratio, dtype=np.float32)[0]
    scores = np.maximum(ratios, process.cdist([query], choices, scorer=fuzz.token_sort_ratio, dtype=np.float32)[0])
    if len(query) >= PARTIAL_MIN:  # partial_ratio is the dearest scorer: only where it can raise the score
        lengths = np.fromiter(map(len, choices), dtype=np.int64, count=len(choices))
        where = np.flatnonzero((lengths >= len(query)) & (scores < 100 * PARTIAL_WEIGHT))
        if len(where):
            partial = process.cdist([query], [choices[i] for i in where.tolist()], scorer=fuzz.partial_ratio,
                                    dtype=np.float32)[0]
            scores[where] = np.maximum(scores[where], partial * PARTIAL_WEIGHT)
    return scores, ratios


@dataclass
class _Base:
    """The trigram index of the key values as of one WAL sequence (immutable once built)."""

    seq: int
    values: list[str]  # value number -> key value
    norms: list[str]  # value number -> normalised key value
    index_of: dict[str, int]  # key value -> value number
    id_start: np.ndarray  # value number -> its owners' ids in ``ids[16 * start:16 * end]``
    ids: bytes
    trigrams: TrigramIndex  # over ``norms``

    def owners(self, number: int) -> list[bytes]:
        start, end = int(self.id_start[number]), int(self.id_start[number + 1])
        return [self.ids[16 * i:16 * i + 16] for i in range(start, end)]

    def nbytes(self) -> int:
        """Bytes held by the arrays, id blob, strings and containers (an estimate of the index's memory)."""
        arrays = self.id_start.nbytes + self.trigrams.nbytes
        strings = sum(sys.getsizeof(n) for n in self.norms) + sum(sys.getsizeof(v) for v in self.values)
        containers = sys.getsizeof(self.values) + sys.getsizeof(self.norms) + sys.getsizeof(self.index_of)
        return arrays + len(self.ids) + strings + containers


@dataclass
class _Overlay:
    """Key values changed since the base was built, with their current owners (empty: gone)."""

    seq: int  # the WAL sequence it is current to
    owners: dict[str, set[bytes]] = field(default_factory=dict)
    masked: set[int] = field(default_factory=set)  # base value numbers the overlay replaces
    values: list[str] = field(default_factory=list)  # key values with owners, and their norms
    norms: list[str] = field(default_factory=list)
    _norm_of: dict[str, str] = field(default_factory=dict)

    def refresh(self) -> None:
        self.values = [v for v, ids in self.owners.items() if ids]
        self.norms = [self._norm_of.get(v) or self._norm_of.setdefault(v, normalise(v)) for v in self.values]


class FuzzyKeys:
    """Fuzzy matching over one tenant's key index (see the module docstring). Thread-safe."""

    def __init__(self, store: Store, keyspace: Keyspace, keys: KeyIndex) -> None:
        self.store = store
        self.ks = keyspace
        self.keys = keys
        self._lock = threading.Lock()
        self._base: _Base | None = None
        self._overlay = _Overlay(0)
        self.builds = 0  # how many times the base was built (tests and the bench read it)

    # -- queries -----------------------------------------------------------------------------------
    def match(self, key: str, limit: int) -> list[tuple[bytes, float]]:
        """``(id16, score)`` of the entities whose key values match ``key``, best first, one per entity
        (its best key value): exact matches with 1.0, then fuzzy ones scoring at least :data:`MIN_SCORE`.
        Holds every match found, which may be more than ``limit`` (the caller drops invisible rows)."""
        out = [(id16, 1.0) for id16 in dict.fromkeys(id16 for _, id16 in self.keys.find(key))]
        query = normalise(key)
        if not query:
            return out
        with self._lock:
            base, overlay = self._current()
            hits = self._scored(base, overlay, query, max(CANDIDATES, 4 * limit))
        seen = {id16 for id16, _ in out}
        for negative, _, _, id16 in sorted((s, r, v, i) for s, r, v, ids in hits if v != key for i in ids):
            if id16 not in seen:
                seen.add(id16)
                out.append((id16, min(round(-negative / 100, 4), NOT_EXACT_CAP)))
        return out

    def _scored(self, base: _Base, overlay: _Overlay, query: str,
                candidates: int) -> list[tuple[float, float, str, Iterable[bytes]]]:
        """``(-score, -ratio, key value, owner ids)`` (scores 0-100, see :func:`score`) of the candidate
        values scoring at least the minimum: the base's best by trigram overlap (those the overlay replaces
        left out), and every overlay value."""
        out: list[tuple[float, float, str, Iterable[bytes]]] = []
        numbers = base.trigrams.candidates(query, candidates)
        if overlay.masked:
            numbers = [n for n in numbers if n not in overlay.masked]
        if numbers:
            scores, ratios = score(query, [base.norms[n] for n in numbers])
            for pos in np.flatnonzero(scores >= MIN_SCORE * 100).tolist():
                number = numbers[pos]
                out.append((-float(scores[pos]), -float(ratios[pos]), base.values[number], base.owners(number)))
        if overlay.values:
            scores, ratios = score(query, overlay.norms)
            for pos in np.flatnonzero(scores >= MIN_SCORE * 100).tolist():
                value = overlay.values[pos]
                out.append((-float(scores[pos]), -float(ratios[pos]), value, overlay.owners[value]))
        return out

    # -- keeping the index current -----------------------------------------------------------------
    def _current(self) -> tuple[_Base, _Overlay]:
        """The base index and overlay as of the store's last commit (caller holds the lock)."""
        seq = self.store.wal_seq()
        base = self._base
        if base is None or not self._catch_up(base, seq):
            self._base = base = self._build()
            self._overlay = _Overlay(base.seq)
        return base, self._overlay

    def _catch_up(self, base: _Base, seq: int) -> bool:
        """Apply the WAL records after the overlay's sequence up to ``seq``; False when a rebuild is due."""
        overlay = self._overlay
        if seq == overlay.seq:
            return True
        if not self.store.wal_enabled or seq < overlay.seq or seq - overlay.seq > MAX_REPLAY:
            return False
        expected = overlay.seq + 1
        prefix, start = self.ks.prefix, len(self.ks.prefix)
        for record_seq, ops in self.store.wal_records(expected):
            if record_seq > seq:
                break
            if record_seq != expected:
                return False  # trimmed by retention, or committed with the WAL off
            expected += 1
            for cf, key, value in ops:
                if cf != CF or not key.startswith(prefix):
                    continue
                text, _ = decode_str(key, start)
                owners = overlay.owners.get(text)
                if owners is None:
                    number = base.index_of.get(text)
                    owners = overlay.owners[text] = set(base.owners(number)) if number is not None else set()
                    if number is not None:
                        overlay.masked.add(number)
                if value is None:
                    owners.discard(key[-16:])
                else:
                    owners.add(key[-16:])
        if expected != seq + 1 or len(overlay.owners) > MAX_OVERLAY:
            return False
        overlay.refresh()
        overlay.seq = seq
        return True

    def _build(self) -> _Base:
        """Scan the key index into a new base, current to the sequence read before the scan. Records
        committed during the scan are applied again by the next catch-up, which is harmless: the last
        operation on a (key value, id) pair decides whether it is there."""
        seq = self.store.wal_seq()
        self.builds += 1
        start = len(self.ks.prefix)
        raws: list[bytes] = []
        firsts: list[int] = []
        ids: list[bytes] = []
        previous = None
        # key order is (key value, table, id), so the entries of one value are adjacent; a value's encoding
        # ends at its first b"\0\0" (an escaped NUL is b"\0\xff")
        for n, key in enumerate(self.store.scan_keys(CF, self.ks.prefix, self.ks.end, fill_cache=False)):
            raw = key[start:key.index(b"\x00\x00", start)]
            if raw != previous:
                raws.append(raw)
                firsts.append(n)
                previous = raw
            ids.append(key[-16:])
        firsts.append(len(ids))
        values = [raw.replace(b"\x00\xff", b"\x00").decode("utf-8") for raw in raws]
        norms = [normalise(v) for v in values]
        index_of = {v: n for n, v in enumerate(values)}
        return _Base(seq, values, norms, index_of, np.asarray(firsts, dtype=np.int64), b"".join(ids),
                     TrigramIndex(norms))

    def memory(self) -> int:
        """Bytes the index holds (an estimate; 0 before the first fuzzy lookup)."""
        with self._lock:
            return self._base.nbytes() if self._base is not None else 0
