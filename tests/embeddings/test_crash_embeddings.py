"""kill -9 during batch inserts with embeddings: every acknowledged entity is searchable after reopen (the
vector index is repaired or caught up from the stored vectors)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from core_helpers import kill_after_acks
from rem_db import Database

CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    print("ready", flush=True)
    batch = 0
    while True:
        kinds = ["wind", "solar", "hydro", "tidal"]
        rows = [{"uri": f"doc-{batch}-{i}", "content": f"Report {batch}-{i}: the {kinds[i % 4]} "
                 f"project number {i} in batch {batch} delivered {i * 7 + batch} megawatt hours."}
                for i in range(40)]
        db.insert_batch("resources", rows)
        if batch == 1:
            db.wait_idle()  # let one index save happen, so reopen must catch up rather than rebuild
        print(batch, flush=True)
        batch += 1
""")


def test_acknowledged_embedded_rows_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "db"
    acked = kill_after_acks(CHILD, [str(path)], 4, timeout=60)

    with Database(path) as db:
        total = db.count("resources")
        assert total >= 40 * len(acked) and total % 40 == 0
        for batch in acked:
            for i in (0, 13, 39):
                row = db.lookup(f"doc-{batch}-{i}")[0]
                hits = db.search(row["content"], schema="resources", top_k=1)
                assert hits and hits[0][0]["id"] == row["id"], (batch, i)
        assert len(db.search("megawatt hours", schema="resources", top_k=10_000)) == total
