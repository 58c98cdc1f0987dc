"""Durability (SPEC §3): an acknowledged batch survives kill -9 of the writer, with its index entries, and the
directory opens read-write again afterwards."""

from __future__ import annotations

import textwrap
from pathlib import Path

from core_helpers import kill_after_acks
from rem_db import Database

BATCH = 200
KILL_AFTER = 6  # acknowledged batches read before the kill

CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    SCHEMA = {
        "title": "events",
        "type": "object",
        "description": "Crash-test events.",
        "properties": {
            "code": {"type": "string"},
            "batch": {"type": "integer"},
            "bucket": {"type": "string"},
            "payload": {"type": "string"},
        },
        "required": ["code", "batch", "bucket"],
        "key_field": "code",
        "indexed_fields": ["batch", "bucket"],
    }

    db = Database(sys.argv[1])
    db.register_schema(SCHEMA)
    size = int(sys.argv[2])
    print("ready", flush=True)
    batch = 0
    while True:
        rows = [{"code": f"ev-{batch}-{i}", "batch": batch, "bucket": f"b{i % 5}", "payload": "x" * 200}
                for i in range(size)]
        db.insert_batch("events", rows)
        print(batch, flush=True)
        batch += 1
""")


def test_acknowledged_batches_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "db"
    acked = kill_after_acks(CHILD, [str(path), str(BATCH)], KILL_AFTER)
    assert acked == list(range(len(acked)))

    with Database(path) as db:  # no LockedError after kill -9
        schema = db.schemas.get("events")
        total = db.count("events")
        assert total >= len(acked) * BATCH
        assert total % BATCH == 0  # batches are all-or-nothing, even the one cut off by the kill
        for batch in acked:
            codes = [f"ev-{batch}-{i}" for i in range(BATCH)]
            found = db.lookup_batch(codes)
            assert all(len(found[c]) == 1 for c in codes), f"batch {batch} lost rows"
            ids = [found[c][0]["id"] for c in codes]
            assert all(r is not None and r["batch"] == batch for r in db.get_batch(ids))
            assert db.get(ids[-1])["code"] == codes[-1]
            assert len(db.index.equal(schema, "batch", batch)) == BATCH
        bucket_total = sum(len(db.index.equal(schema, "bucket", f"b{k}")) for k in range(5))
        assert bucket_total == total
        assert sum(1 for _ in db.rows("events")) == total
        db.insert("events", {"code": "after-crash", "batch": -1, "bucket": "b0"})
    with Database(path) as db:
        assert db.count("events") == total + 1
