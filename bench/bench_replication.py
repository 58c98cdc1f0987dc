"""Replication bars (SPEC §16): lag on loopback, catch-up rate, primary overhead. Real gRPC on 127.0.0.1,
the replica in its own process (as `rem replicate` runs it).

- lag: single inserts on the primary (one at a time, each after the previous one was applied), time from the
  insert returning to the replica process having applied it (CLOCK_MONOTONIC is shared by processes);
  ``Database.serve`` in the writing process, and `rem serve` beside it (secondary instance, 2 ms poll);
- catch-up: a new replica pulls N committed entries (single-row commits); entries/s inside the replica
  process, from the first request to synced;
- overhead: single-insert time on the primary with one replica following vs none, rounds interleaved.

Usage: python bench/bench_replication.py [--lag 500] [--catchup 100000] [--overhead 2000 --rounds 5]
(0 skips the lag or catch-up part, e.g. ``--lag 0 --catchup 0`` for the overhead alone)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rem_db import Database

TABLE: dict[str, Any] = {"title": "events", "type": "object", "description": "Bench events.",
                         "properties": {"key": {"type": "string"}, "n": {"type": "integer"},
                                        "text": {"type": "string"}},
                         "key_field": "key", "indexed_fields": ["n"]}

#: the replica process: follows (or catches up once) and prints "applied <seq> <monotonic ns>" per message
REPLICA = r"""
import sys, time
from rem_db import Database
path, primary, follow = sys.argv[1], sys.argv[2], sys.argv[3] == "follow"
db = Database.open_replica(path, primary)
def applied(seq):
    sys.stdout.write(f"applied {seq} {time.monotonic_ns()}\n"); sys.stdout.flush()
if follow:
    handle = db.replicate(follow=True, on_applied=applied)
    print("ready", flush=True)
    sys.stdin.read()
    handle.stop()
else:
    start = time.perf_counter()
    status = db.replicate()
    print("caught-up", status["position"], time.perf_counter() - start, flush=True)
db.close()
"""


def row(n: int) -> dict[str, Any]:
    return {"key": f"k{n}", "n": n, "text": f"event number {n} of the replication bench"}


class ReplicaProcess:
    def __init__(self, path: Path, primary: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", REPLICA, str(path), primary, "follow"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
        self.applied: dict[int, int] = {}
        self.position = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            parts = line.split()
            if parts and parts[0] == "applied":
                with self._cond:
                    self.position = int(parts[1])
                    self.applied[self.position] = int(parts[2])
                    self._cond.notify_all()

    def wait(self, seq: int, timeout: float = 30) -> int:
        with self._cond:
            assert self._cond.wait_for(lambda: self.position >= seq, timeout), f"replica stuck at {self.position}"
            return self.applied.get(seq) or self.applied[self.position]

    def stop(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(30)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lag(work: Path, count: int, beside: bool) -> dict[str, float]:
    name = "beside" if beside else "inproc"
    db = Database(work / f"lag-{name}-primary")
    db.register_schema(TABLE)
    server: Any = None
    if beside:
        serve = subprocess.Popen([sys.executable, "-m", "rem_db.cli.main", "--db-path", str(db.path), "serve",
                                  "--port", "0"], stderr=subprocess.PIPE, text=True)
        line = serve.stderr.readline()  # type: ignore[union-attr]
        address = line.split(" on ")[1].split(";")[0].strip()
    else:
        server = db.serve(port=0)
        address = server.address
    replica = ReplicaProcess(work / f"lag-{name}-replica", address)
    lags = []
    try:
        for n in range(count + 20):
            db.insert("events", row(n))
            done = time.monotonic_ns()
            applied = replica.wait(db._store.wal_seq())
            if n >= 20:  # warm-up
                lags.append((applied - done) / 1e6)
            time.sleep(0.002)
    finally:
        replica.stop()
        if beside:
            serve.terminate()
            serve.wait(30)
        db.close()
    return {"p50_ms": statistics.median(lags), "p95_ms": pct(lags, 0.95), "n": len(lags)}


def catch_up(work: Path, count: int) -> dict[str, float]:
    db = Database(work / "catchup-primary")
    db.register_schema(TABLE)
    for n in range(count):
        db.insert("events", row(n))
    seq = db._store.wal_seq()
    server = db.serve(port=0)
    try:
        out = subprocess.run([sys.executable, "-c", REPLICA, str(work / "catchup-replica"), server.address, "once"],
                             capture_output=True, text=True, check=True).stdout.split()
    finally:
        db.close()
    position, seconds = int(out[1]), float(out[2])
    assert position == seq
    return {"entries": position, "seconds": seconds, "entries_per_s": position / seconds}


def overhead(work: Path, count: int, rounds: int, batch: int = 1) -> dict[str, float]:
    """Per write call (``batch`` rows each: ``insert`` for 1, else ``insert_batch``), with one replica
    following vs none."""
    db = Database(work / f"overhead-primary-{batch}")
    db.register_schema(TABLE)
    base, follow = [], []
    n = 0
    try:
        for r in range(rounds * 2):
            connected = r % 2 == 1
            server = replica = None
            if connected:
                server = db.serve(port=0)
                replica = ReplicaProcess(work / f"overhead-replica-{batch}-{r}", server.address)
                replica.wait(db._store.wal_seq())
            times = []
            cpu = time.process_time()
            for _ in range(count):
                rows = [row(n + i) for i in range(batch)]
                start = time.perf_counter()
                if batch == 1:
                    db.insert("events", rows[0])
                else:
                    db.insert_batch("events", rows)
                times.append(time.perf_counter() - start)
                n += batch
            if replica is not None and server is not None:
                replica.wait(db._store.wal_seq())  # the primary's sending work is counted until all is sent
            cpu = (time.process_time() - cpu) / count * 1e6
            if replica is not None and server is not None:
                replica.stop()
                server.stop()
            (follow if connected else base).append((statistics.median(times) * 1e6, cpu))
    finally:
        db.close()
    b, f = statistics.median(t for t, _ in base), statistics.median(t for t, _ in follow)
    bc, fc = statistics.median(c for _, c in base), statistics.median(c for _, c in follow)
    return {"none_us": b, "one_replica_us": f, "ratio": f / b, "rounds": rounds, "none_cpu_us": bc,
            "one_replica_cpu_us": fc, "cpu_ratio": fc / bc}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lag", type=int, default=500)
    parser.add_argument("--catchup", type=int, default=100_000)
    parser.add_argument("--overhead", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="rows per insert_batch call (1: skip that part)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rem-bench-repl-") as tmp:
        work = Path(tmp)
        print(f"cpus {os.cpu_count()}")
        if args.lag:  # 0 skips a part
            inproc = lag(work, args.lag, beside=False)
            print(f"lag, Database.serve in the writer: p50 {inproc['p50_ms']:.3f} ms  p95 {inproc['p95_ms']:.3f} ms "
                  f"({inproc['n']:.0f} single inserts)")
            beside = lag(work, args.lag, beside=True)
            print(f"lag, `rem serve` beside the writer (2 ms poll): p50 {beside['p50_ms']:.3f} ms  "
                  f"p95 {beside['p95_ms']:.3f} ms")
        if args.catchup:
            up = catch_up(work, args.catchup)
            print(f"catch-up: {up['entries']:.0f} entries in {up['seconds']:.2f} s = {up['entries_per_s']:,.0f} "
                  f"entries/s")
        if args.batch > 1:
            bulk = overhead(work, args.overhead // args.batch * 10, args.rounds, args.batch)
            print(f"primary insert_batch of {args.batch} rows: none {bulk['none_us']:.1f} us, one replica "
                  f"{bulk['one_replica_us']:.1f} us (ratio {bulk['ratio']:.3f}); CPU ratio {bulk['cpu_ratio']:.3f}")
        over = overhead(work, args.overhead, args.rounds)
        print(f"primary single insert: none {over['none_us']:.1f} us, one replica following "
              f"{over['one_replica_us']:.1f} us (ratio {over['ratio']:.3f}, {over['rounds']} interleaved rounds "
              f"of {args.overhead}); primary process CPU per insert: none {over['none_cpu_us']:.1f} us, one "
              f"replica {over['one_replica_cpu_us']:.1f} us (ratio {over['cpu_ratio']:.3f})")
        print(f"load average during the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
