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

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
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


def _run(path: Path, code: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    done = subprocess.run([sys.executable, __file__, "measure", str(path)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ab(path: Path, old_code: str, rounds: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(rounds):
        for name, code in (("before", old_code), ("after", None)) if r % 2 == 0 else (("after", None),
                                                                                       ("before", old_code)):
            runs[name].append(_run(path, code))
            print(name, r, json.dumps(runs[name][-1]), flush=True)
    for key in runs["before"][0]:
        before = statistics.median(x[key] for x in runs["before"])
        after = statistics.median(x[key] for x in runs["after"])
        print(f"{key}: before {before:.3f}  after {after:.3f}  after/before {after / before:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("build", "measure", "ab"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--code", help="run this copy of the package (a src directory)")
    parser.add_argument("--old-code", help="ab: the src directory of the version to compare with")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.mode == "build":
        build(args.path)
    elif args.mode == "ab":
        if not args.old_code:
            parser.error("ab needs --old-code")
        ab(args.path, args.old_code, args.rounds)
    elif args.code:
        print(json.dumps(_run(args.path, args.code)))
    else:
        print(json.dumps(measure(args.path)))


if __name__ == "__main__":
    main()
