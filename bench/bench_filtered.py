"""Filtered vector search on the peers corpus (issue 20, item 3 "filtered search"): first-time, repeated and
narrow filters, with recall@10 against exact numpy search over the same vectors.

    python bench/bench_filtered.py build DIR                    # the 100,000-row peers table, index waited for
    python bench/bench_filtered.py measure DIR [--code SRC]     # one run: JSON of the figures below
    python bench/bench_filtered.py ab DIR --old-code SRC [--rounds 4]   # alternating processes, medians

The database is the peers benchmark's (``bench/peers``: 100,000 MiniLM vectors of ~40-word texts, a 10-value
``category`` and a ``year``; the corpus is embedded once and cached, ``python bench/peers/corpus.py``).
Figures, each process opening DIR and waiting for its index: ``first`` — p50 of 10 first-time filters
``category = '…'`` (10 %, one per value); ``cached`` — median over 3 passes of the p50 of 190 repeated ones;
``narrow`` — ``category = '…' AND year = …`` (~0.4 %, ~400 rows), 20 filters used 5 times each, the last 3
timed; recall@10 of the repeated and narrow ones. ``--code SRC`` runs another copy of the package
(``git archive HEAD src | tar -x -C /tmp/base`` then ``--code /tmp/base/src``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ab_runs
from peers.corpus import CATEGORIES, ensure
from peers.systems.rem import TABLE, RemSystem
from peers.worker import exact, recall

N = 100_000


def build(path: Path) -> None:
    corpus = ensure(N)
    system = RemSystem(path, corpus.vectors.shape[1])
    system.create_and_load([corpus.row(i) for i in range(N)], corpus.vectors)
    system.wait_indexed()
    system.close()


def _timed(call: Any, items: list[Any]) -> tuple[float, list[Any]]:
    times, out = [], []
    for item in items:
        t = time.perf_counter()
        out.append(call(item))
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, out


def measure(path: Path) -> dict[str, float]:
    corpus = ensure(N, verbose=False)
    system = RemSystem(path, corpus.vectors.shape[1])
    system.open()
    queries = list(corpus.queries)
    system.search(queries[0])
    system.db.wait_idle()
    time.sleep(1)  # the graph swapped in and nothing left to save
    for q in queries[:5]:
        system.search(q)
    out: dict[str, float] = {}
    out["first_ms"], _ = _timed(lambda qc: system.search(qc[0], category=qc[1]),
                                [(queries[i], CATEGORIES[i]) for i in range(len(CATEGORIES))])
    cached = [(queries[i], CATEGORIES[i % len(CATEGORIES)]) for i in range(len(CATEGORIES), len(queries))]
    passes = [_timed(lambda qc: system.search(qc[0], category=qc[1]), cached) for _ in range(3)]
    out["cached_ms"] = statistics.median(p[0] for p in passes)
    out["cached_recall"] = statistics.mean(recall(f, exact(corpus, q, c))
                                           for f, (q, c) in zip(passes[-1][1], cached, strict=True))
    years, cats = np.array(corpus.years), np.array(corpus.categories)
    times, recalls = [], []
    for i in range(20):
        category, year, query = CATEGORIES[i % len(CATEGORIES)], 2000 + i, queries[100 + i]
        where = f"category = '{category}' AND year = {year}"
        for rep in range(5):
            t = time.perf_counter()
            hits = system.db.search(vector=query, schema=TABLE, top_k=10, where=where)
            if rep >= 2:
                times.append(time.perf_counter() - t)
        rows = np.flatnonzero((cats == category) & (years == year))
        truth = {corpus.ids[n] for n in rows[np.argsort(-(corpus.vectors[rows] @ query))[:10]]}
        recalls.append(len({h["doc_id"] for h, _ in hits} & truth) / len(truth))
    out["narrow_ms"] = statistics.median(times) * 1e3
    out["narrow_recall"] = statistics.mean(recalls)
    system.close()
    return out


if __name__ == "__main__":
    ab_runs.main(__file__, __doc__, measure, build=build)
