"""Single inserts with a vector into the 100,000-row peers table (issue 20, item 3 "single insert p50 ≤ 80 µs"),
and what they leave for the searches that follow.

    python bench/bench_filtered.py build DIR                        # the database (shared with that bench)
    python bench/bench_single_insert.py measure DIR [--code SRC]    # one run on a fresh copy of DIR: JSON
    python bench/bench_single_insert.py ab DIR --old-code SRC [--rounds 6]   # alternating processes, medians

Each run copies DIR (the inserts must not pile up between runs), opens the copy, waits for its index, then:
``burst_us`` — p50 of 1,000 back-to-back ``insert(..., vector=)`` (what the peers benchmark times);
``paced_us`` — p50 of 300 inserts 2 ms apart; ``search_after_burst_ms`` — median over 5 bursts of 200 inserts
of the first search right after the burst; ``catch_up_s`` — ``wait_idle()`` after the last burst (the graph
takes every row in). Rows and vectors are the corpus's held-out queries (``bench/peers``), ids fresh per run.
``--code SRC`` runs another copy of the package (``git archive HEAD src | tar -x -C /tmp/base``).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ab_runs
from peers.corpus import CATEGORIES, ensure
from peers.systems.rem import TABLE, RemSystem

N = 100_000


def measure(source: Path) -> dict[str, float]:
    corpus = ensure(N, verbose=False)
    queries = corpus.queries
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db"
        shutil.copytree(source, path)
        system = RemSystem(path, queries.shape[1])
        system.open()
        db = system.db
        system.search(queries[0])
        db.wait_idle()
        time.sleep(1)  # the graph swapped in and nothing left to save
        serial = iter(range(10**9))

        def insert(_: Any = None) -> None:
            n = next(serial)
            row = {"doc_id": f"new-{n}", "body": "A new row about nothing much.", "category": CATEGORIES[n % 10],
                   "year": 2025}
            db.insert(TABLE, row, vector=queries[n % len(queries)])

        def p50_us(count: int, pause: float) -> float:
            times = []
            for _ in range(count):
                if pause:
                    time.sleep(pause)
                t = time.perf_counter()
                insert()
                times.append(time.perf_counter() - t)
            db.wait_idle()
            return statistics.median(times) * 1e6

        out = {"burst_us": p50_us(1000, 0.0), "paced_us": p50_us(300, 0.002)}
        after = []
        for b in range(5):
            for _ in range(200):
                insert()
            t = time.perf_counter()
            system.search(queries[b])
            after.append(time.perf_counter() - t)
        out["search_after_burst_ms"] = statistics.median(after) * 1e3
        t = time.perf_counter()
        db.wait_idle()
        out["catch_up_s"] = time.perf_counter() - t
        system.close()
    return out


if __name__ == "__main__":
    ab_runs.main(__file__, __doc__, measure, rounds=6)
