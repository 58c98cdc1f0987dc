"""Where the primary's replication overhead comes from (issue 15's ≥ 90 % throughput bar, bench/RESULTS.md).

Interleaved rounds of single inserts in one primary process, three ways: alone; beside an unrelated REM
writer process inserting flat out into its own database (the cost of the second vCPU being busy at all);
with one replica process following (``Database.serve`` in the writer). Prints the median insert p50 and the
primary process's CPU per insert for each, with ratios to "alone".

Usage: python bench/bench_replication_overhead.py [--rounds 9] [--count 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_replication import TABLE, ReplicaProcess, row
from rem_db import Database

WRITER = r"""
import sys
from rem_db import Database
sys.path.insert(0, sys.argv[2])
from bench_replication import TABLE, row
db = Database(sys.argv[1]); db.register_schema(dict(TABLE)); n = 0
print("ready", flush=True)
while True:
    db.insert("events", row(n)); n += 1
"""
MODES = ("alone", "REM writer beside", "one replica")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rem-bench-overhead-") as tmp:
        work = Path(tmp)
        db = Database(work / "primary")
        db.register_schema(dict(TABLE))
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
        n = 0
        try:
            for r in range(args.rounds):
                for mode in MODES:
                    writer = server = replica = None
                    if mode == "REM writer beside":
                        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(work / f"writer-{r}"),
                                                   str(Path(__file__).parent)], stdout=subprocess.PIPE, text=True)
                        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
                    if mode == "one replica":
                        server = db.serve(port=0)
                        replica = ReplicaProcess(work / f"replica-{r}", server.address)
                        replica.wait(db._store.wal_seq())
                    times = []
                    cpu = time.process_time()
                    for _ in range(args.count):
                        start = time.perf_counter()
                        db.insert("events", row(n))
                        times.append(time.perf_counter() - start)
                        n += 1
                    if replica is not None:
                        replica.wait(db._store.wal_seq())  # the sending work counts until all is sent
                    cpu = (time.process_time() - cpu) / args.count * 1e6
                    if writer is not None:
                        writer.kill()
                        writer.wait()
                    if replica is not None and server is not None:
                        replica.stop()
                        server.stop()
                    results[mode].append((statistics.median(times) * 1e6, cpu))
        finally:
            db.close()
    base = statistics.median(t for t, _ in results["alone"])
    base_cpu = statistics.median(c for _, c in results["alone"])
    for mode, values in results.items():
        wall = statistics.median(t for t, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"{mode}: insert p50 {wall:.1f} us ({wall / base:.2f}x), primary process CPU {cpu:.1f} us/insert "
              f"({cpu / base_cpu:.2f}x)")


if __name__ == "__main__":
    main()
