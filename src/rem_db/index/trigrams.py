"""A trigram index over many short strings: the prefilter of the fuzzy key lookup (index/fuzzy.py).

Each string is padded with one space on both sides and cut into its distinct trigrams (``" ab c "`` ->
``" ab"``, ``"ab "``, ``"b c"``, ``" c "``). The index is three numpy arrays: the sorted distinct trigram
codes, and CSR postings (for each trigram, the numbers of the strings holding it). Code points are first
mapped to a dense alphabet (the characters the strings use), so a trigram code is three alphabet positions
and, for up to millions of strings, ``(trigram, string number)`` packs into one int64: the build is then one
vectorised pass and one sort.

A query counts, per string, the query trigrams it holds (``np.bincount`` over the postings of those
trigrams) and keeps the strings with the highest Dice coefficient ``shared / (query trigrams + string
trigrams)``: similar strings of similar length first.
"""

from __future__ import annotations

import numpy as np

OVERSAMPLE = 2  # candidates kept by shared trigrams before Dice picks ``limit`` of them
_SEP = 1  # code point between strings in the build text (the strings are normalised: they never hold it)


def _code_points(texts: list[str]) -> np.ndarray:
    """The code points of the padded texts, separated by :data:`_SEP`."""
    joined = chr(_SEP).join(f" {t} " for t in texts)
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """``values`` (sorted) without repeats: a mask of the first of each run."""
    first = np.empty(len(values), dtype=bool)
    if len(values):
        first[0] = True
        np.not_equal(values[1:], values[:-1], out=first[1:])
    return first


class TrigramIndex:
    """The trigrams of ``texts`` (string number = position in ``texts``); immutable once built."""

    def __init__(self, texts: list[str]) -> None:
        self.count = len(texts)
        cps = _code_points(texts)
        present = np.bincount(cps, minlength=_SEP + 1) > 0
        self.alphabet = np.flatnonzero(present).astype(np.uint32)  # sorted code points in use
        self.width = len(self.alphabet) + 1  # the last position stands for characters outside the alphabet
        codes = self._codes((np.cumsum(present) - 1)[cps].astype(np.int64))
        sep = cps == _SEP
        owner = np.cumsum(sep)[:len(codes)]  # string number at each trigram's start
        if len(codes):
            ok = ~(sep[:-2] | sep[1:-1] | sep[2:])  # trigrams inside one padded string
            codes, owner = codes[ok], owner[ok]
        n = max(self.count, 1)
        if self.width ** 3 * n < 2 ** 62:  # (trigram, string) fits one int64: one plain sort
            pairs = codes * n + owner
            pairs.sort()
            pairs = pairs[_distinct_sorted(pairs)]
            gram_of, postings = pairs // n, pairs % n
        else:  # a huge alphabet: sort by trigram, stable, so each trigram's strings stay in order
            order = np.argsort(codes, kind="stable")
            gram_of, postings = codes[order], owner[order]
            keep = _distinct_sorted(gram_of)
            keep[1:] |= postings[1:] != postings[:-1]
            gram_of, postings = gram_of[keep], postings[keep]
        first = _distinct_sorted(gram_of)
        self.grams = gram_of[first]  # sorted distinct trigram codes
        self.starts = np.append(np.flatnonzero(first), len(gram_of)).astype(np.int64)  # CSR offsets
        self.postings = postings.astype(np.int32)
        self.sizes = np.bincount(self.postings, minlength=self.count).astype(np.int32)  # trigrams per string

    def _codes(self, dense: np.ndarray) -> np.ndarray:
        if len(dense) < 3:
            return np.empty(0, dtype=np.int64)
        return (dense[:-2] * self.width + dense[1:-1]) * self.width + dense[2:]

    def query_codes(self, text: str) -> np.ndarray:
        """The distinct trigram codes of one (normalised) query string."""
        cps = _code_points([text])
        pos = np.searchsorted(self.alphabet, cps)
        known = pos < len(self.alphabet)
        known[known] = self.alphabet[pos[known]] == cps[known]
        dense = np.where(known, pos, self.width - 1).astype(np.int64)
        return np.unique(self._codes(dense))

    def candidates(self, text: str, limit: int) -> list[int]:
        """The numbers of the strings sharing the most trigrams with ``text`` (Dice coefficient), at most
        ``limit``, in no particular order; strings sharing none are never returned."""
        codes = self.query_codes(text)
        total = len(codes)
        pos = np.searchsorted(self.grams, codes)
        known = pos < len(self.grams)
        pos, codes = pos[known], codes[known]
        pos = pos[self.grams[pos] == codes]
        if not len(pos):
            return []
        bounds = zip(self.starts[pos].tolist(), self.starts[pos + 1].tolist(), strict=True)
        counts = np.bincount(np.concatenate([self.postings[a:b] for a, b in bounds]), minlength=self.count)
        # Dice is computed only for the strings sharing the most trigrams: the fewest shared trigrams that
        # still leaves OVERSAMPLE x limit strings (a Dice score over every string sharing one would cost more
        # than the rest of a lookup on 100k strings)
        at_least = np.cumsum(np.bincount(counts)[::-1])[::-1]  # strings sharing >= c trigrams, c = 0, 1, ...
        enough = np.flatnonzero(at_least[1:] >= OVERSAMPLE * limit)
        found = np.flatnonzero(counts >= (int(enough[-1]) + 1 if len(enough) else 1))
        if len(found) > limit:
            dice = counts[found] / (total + self.sizes[found])
            found = found[np.argpartition(-dice, limit)[:limit]]
        return found.tolist()

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.alphabet, self.grams, self.starts, self.postings, self.sizes))
