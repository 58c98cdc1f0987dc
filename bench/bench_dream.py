"""Dreaming (issue 17): dream over 10,000 resources offline; time and what was written.

    python bench/bench_dream.py                 # 10,000 resources (100 bursts of 100 over 5 days)
    python bench/bench_dream.py --n 2000        # a smaller run

The resources are generated English sentences (bench/real_sentences.py), a fifth of them naming one of 200
people of a ``people`` table, inserted in bursts of 100 (one a second) every ~70 minutes over five days, with
random unit vectors given as precomputed vectors (so loading does not time the embedding model; dreaming
embeds its moments' summaries with the local model, and that is timed). The clock the entity engine stamps
rows with is set per burst (the database owns ``created_at``; there is no API to give one).

Measured in-process on a fresh database: the dry run, the first dream (stores every moment and edge in one
batch), and the same window dreamed again (replaces: same ids, no new rows).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_sentences import sentences
from rem_db import Database
from rem_db.entities import engine as engine_module
from rem_db.storage.codec import format_timestamp

START = datetime(2025, 3, 3, tzinfo=UTC)
BURST = 100
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Tim")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton",
        "Berners-Lee", "Ritchie", "Kay", "Perlman", "Lamport", "Wirth", "Backus", "Milner", "Hoare", "Karp", "Cook")


def load(db: Database, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    people = [f"{f} {last}" for f in FIRST for last in LAST][:200]
    db.register_schema({"title": "people", "type": "object", "description": "People, keyed by name.",
                        "properties": {"name": {"type": "string"}}, "required": ["name"], "key_field": "name"})
    original = engine_module.now_iso
    try:
        engine_module.now_iso = lambda: format_timestamp(START - timedelta(days=7))
        db.insert_batch("people", [{"name": p} for p in people])
        texts = sentences(n, seed)
        vectors = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
        for b, first in enumerate(range(0, n, BURST)):
            rows = []
            for i in range(first, min(first + BURST, n)):
                text = texts[i] + (f" {rng.choice(people)} took notes." if rng.random() < 0.2 else "")
                rows.append({"uri": f"file:///bench/{i}.txt", "content": text, "category": f"c{i % 7}"})
            when = START + timedelta(minutes=70 * b)
            engine_module.now_iso = lambda when=when: format_timestamp(when)
            db.insert_batch("resources", rows, vectors=vectors[first:first + len(rows)])
    finally:
        engine_module.now_iso = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="dreams of the same window after the first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "db") as db:
        began = time.perf_counter()
        load(db, args.n)
        print(f"loaded {args.n:,} resources in {time.perf_counter() - began:.1f} s")
        window = {"start": "2025-03-03T00:00:00Z", "end": "2025-03-10T00:00:00Z"}
        db.dream(**window, dry_run=True)  # warm caches
        db.search("warm up", schema="resources", top_k=1)  # loads the embedding model the moments use
        dry = db.dream(**window, dry_run=True)
        began = time.perf_counter()
        first = db.dream(**window)
        first_s = time.perf_counter() - began
        again = []
        for _ in range(args.runs):
            began = time.perf_counter()
            report = db.dream(**window)
            again.append(time.perf_counter() - began)
        assert [m["id"] for m in report["moments"]] == [m["id"] for m in first["moments"]]
        rows = sum(p["items"] for p in first["periods"])
        print(f"window rows {rows:,}, periods {len(first['periods'])}, moments {len(first['moments'])} "
              f"(stored {db.count('moments')}), edges contains {first['edges']['contains']:,} "
              f"captured_in {first['edges']['captured_in']:,}")
        print(f"dry run {dry['seconds']:.2f} s; first dream {first_s:.2f} s ({rows / first_s:,.0f} rows/s); "
              f"again (replace) median {statistics.median(again):.2f} s of {args.runs}")
        people = sum(len(m["people"]) for m in first["moments"][:-1])
        print(f"people recognised on period moments: {people}")


if __name__ == "__main__":
    main()
