"""Backup, restore and WAL retention figures (issue 15, SPEC §9, §13; docs/replication.md).

Run: ``python bench/bench_replication_backup.py [--n 100000] [--keep DIR]``.

A ``docs`` table of ``--n`` rows with synthetic 384-d vectors (bench_vectors.make_db, its HNSW index built and
saved) is opened read-write; a writer thread commits continuously (one row, then its 384-d vector, as two
commits; the vector goes to the HNSW index) while ``Database.backup`` runs. Reported:

- backup seconds and bytes (how many of them hard-linked to the live files), and the writer's commit latency
  (p50, p99, max) and rate in the seconds before the backup and during it: the longest commit during the
  backup is the stall a writer sees;
- the same backup from a read-only handle (a copy of every column family: no hard links);
- restore seconds, and the restored copy's open to its first answered search (index files caught up from the
  copy's WAL, not rebuilt);
- one WAL retention run trimming the log to ``P8_WAL_MAX_SIZE_MB``-style limits (seconds, records).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bench_vectors import DIMS, SPEC, clustered, make_db
from rem_db import Database
from rem_db.replication.retention import WalRetention, first_retained_seq


class Writer:
    """Commits rows with vectors in a loop; ``spans`` holds (start, seconds) of each commit."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.spans: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.centres, self.rng = clustered(0, 7)

    def run(self) -> None:
        engine, n = self.db._engine, 0
        while not self.stop.is_set():
            vec = self.centres[n % 200] + 0.06 * self.rng.standard_normal(DIMS).astype(np.float32)
            vec /= np.linalg.norm(vec)
            start = time.perf_counter()
            row = engine.put_many("docs", [{"key": f"w{n}", "body": f"written {n}", "category": "w"}],
                                  embed_mode="lazy")[0]
            self.spans.append((start, time.perf_counter() - start))
            start = time.perf_counter()
            with engine.lock:
                batch = engine.store.batch()
                self.db._vectors.put(batch, "docs", SPEC, uuid.UUID(row["id"]).bytes, vec)
                engine.commit(batch)
            self.spans.append((start, time.perf_counter() - start))
            n += 1

    def window(self, start: float, end: float) -> dict[str, float]:
        took = [d for s, d in self.spans if start <= s < end or (s < start < s + d)]
        took.sort()
        return {"commits": len(took), "per_s": len(took) / (end - start), "p50_ms": 1e3 * statistics.median(took),
                "p99_ms": 1e3 * took[int(0.99 * (len(took) - 1))], "max_ms": 1e3 * took[-1]}


def linked_bytes(root: Path) -> tuple[int, int]:
    """(all bytes, bytes in files that share their inode with another path: hard links to the live files)."""
    files = [p.stat() for p in root.rglob("*") if p.is_file()]
    return sum(s.st_size for s in files), sum(s.st_size for s in files if s.st_nlink > 1)


def show(label: str, w: dict[str, float]) -> str:
    return (f"{label}: {w['commits']} commits, {w['per_s']:.0f}/s, p50 {w['p50_ms']:.2f} ms, "
            f"p99 {w['p99_ms']:.2f} ms, max {w['max_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the database here (reused when it exists)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rem-backup-bench-"))
    path = args.keep or work / "db"
    try:
        if not path.exists():
            t0 = time.perf_counter()
            make_db(path, args.n)
            print(f"built {args.n} rows with {DIMS}-d vectors in {time.perf_counter() - t0:.1f} s")
        queries, _ = clustered(0, 3)
        with Database(path) as db:
            db.search_vector(queries[0], "docs", top_k=10)  # the index loaded
            writer = Writer(db)
            writer.thread.start()
            time.sleep(3.0)
            before_start = time.perf_counter() - 3.0
            start = time.perf_counter()
            summary = db.backup(work / "backup")
            end = time.perf_counter()
            time.sleep(0.5)
            writer.stop.set()
            writer.thread.join()
            total, linked = linked_bytes(work / "backup")
            print(f"backup (read-write handle, checkpoint): {summary['seconds']:.2f} s, {total / 1e6:.1f} MB "
                  f"({linked / 1e6:.1f} MB of it hard-linked), commit {summary['sequence']}, "
                  f"{summary['indexes']} index file set(s) kept")
            print("  writer " + show("before", writer.window(before_start, start)))
            print("  writer " + show("during", writer.window(start, end)))
            with Database(path, read_only=True) as reader:
                ro = reader.backup(work / "backup-ro")
            print(f"backup (read-only handle, copy): {ro['seconds']:.2f} s, {ro['bytes'] / 1e6:.1f} MB, "
                  f"{ro['indexes']} index file set(s) kept")
            wal_records = db._store.wal_seq() - first_retained_seq(db._store) + 1
            wal_bytes = db._store.wal_size_bytes()
            task = WalRetention(db._store, db.settings.replace(wal_max_size_mb=max(1.0, wal_bytes / 4 / 2**20)),
                                db.worker)
            t0 = time.perf_counter()
            report = task.run()
            print(f"WAL retention run: {wal_records} records / {wal_bytes / 1e6:.1f} MB -> trimmed "
                  f"{report.trimmed_by_size} by size to {report.wal_bytes / 1e6:.1f} MB in "
                  f"{time.perf_counter() - t0:.2f} s")
        restored = Database.restore(work / "backup", work / "restored")
        print(f"restore: {restored['seconds']:.2f} s, {restored['bytes'] / 1e6:.1f} MB copied")
        t0 = time.perf_counter()
        with Database(work / "restored", read_only=True) as copy:
            hits: Any = copy.search_vector(queries[1], "docs", top_k=10)
            first = time.perf_counter() - t0
            kind = copy.stats("docs")["details"]["docs"]["vector_index"]["kind"]
        print(f"restored copy: open to first search {first:.2f} s ({len(hits)} hits, index {kind})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
