"""A read-only open beside a busy writer replays only a bounded amount of the writer's unflushed RocksDB log
(memtables are flushed once the log passes ``MAX_LOG_BYTES``), so it stays fast however much the writer has
written since its last flush; and it sees every committed row."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from rem_db import Database
from rem_db.storage.rocks_options import MAX_LOG_BYTES

WRITER = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    db.register_schema({"title": "items", "type": "object", "description": "Items.", "indexed_fields": ["cat"],
                        "properties": {"name": {"type": "string"}, "n": {"type": "integer"},
                                       "cat": {"type": "string"}}})
    for start in range(0, 150_000, 5000):
        db.insert_batch("items", [{"name": f"item {i} " + "x" * 300, "n": i, "cat": f"c{i % 10}"}
                                  for i in range(start, start + 5000)])
    print("written", flush=True)
    sys.stdin.read()  # stay open (never closed, never flushed by a close) until the test is done
""")


def test_read_only_open_beside_a_writer_replays_a_bounded_log(tmp_path: Path) -> None:
    path = tmp_path / "db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "written", writer.stderr.read()
        logs = sum(p.stat().st_size for p in path.glob("*.log"))
        # ~150 MB were written (rows, index entries, their WAL records): a reader replays at most the bound
        # (plus the memtable being filled)
        assert logs <= MAX_LOG_BYTES + (16 << 20), logs
        with Database(path, read_only=True) as reader:
            assert reader.count("items") == 150_000
            assert reader.query("SELECT count(*) AS n FROM items WHERE cat = 'c3'")[0]["n"] == 15_000
    finally:
        writer.communicate("", timeout=60)
    assert writer.returncode == 0, writer.stderr
