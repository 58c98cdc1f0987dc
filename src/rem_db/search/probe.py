"""Filtered vector search without reading the filter's candidate ids first.

A metadata filter such as ``category = 'news'`` over 100,000 rows names ~10,000 ids; reading them all from the
field index costs several milliseconds, more than the search itself. When the WHERE is an equality (or an
AND of equalities) the field indexes answer exactly, the search instead asks the graph for its nearest
``PROBE_BREADTH`` rows unfiltered and checks just those by point reads of their index entries
(:meth:`rem_db.query.filters.Filter.probe`). Any matching row nearer than the last of them would have been
among them, so the first ``top_k`` matches are the answer, with the same approximation as any HNSW search.
When too few match (a selective filter), one wider search sized by the share seen is tried; past
``max_breadth`` the caller falls back to reading the candidate ids.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..index.ann import AnnIndex

#: the first unfiltered search: this many rows per wanted hit (a 10 % filter finds ~2 per wanted hit)
PROBE_PER_HIT = 20
#: a second, wider search asks for this many times the hits the share seen in the first one promises
PROBE_OVERSAMPLE = 1.5

Matching = Callable[[list[bytes]], list[bool]]


def probed_search(index: AnnIndex, vector: np.ndarray, want: int, matching: Matching, excluded: set[bytes],
                  ef: int | None, max_breadth: int) -> list[tuple[bytes, float]] | None:
    """The ``want`` nearest rows that ``matching`` accepts and ``excluded`` does not hold, or None when a
    search of at most ``max_breadth`` rows cannot tell (the caller then reads the candidate ids)."""
    total = len(index)
    if total == 0:
        return []
    breadth = min(max(PROBE_PER_HIT * want, 100), total, max_breadth)
    while True:
        hits = index.search(vector, breadth, ef=None if ef is None else max(ef, breadth))
        flags = matching([i for i, _ in hits])
        kept = [hit for hit, ok in zip(hits, flags, strict=True) if ok and hit[0] not in excluded]
        if len(kept) >= want or breadth >= total:
            return kept[:want]
        needed = int(want * PROBE_OVERSAMPLE * len(hits) / len(kept)) + 1 if kept else max_breadth + 1
        if needed > max_breadth or needed <= breadth:
            return None
        breadth = min(needed, total)
