"""Campaign (a): kill -9 at random points of a mixed write workload (embedded batch inserts, updates, soft and
hard deletes, edges, document ingests; tests/campaign_ops.py), with the WAL on and off. After each kill the
database must hold every acknowledged write, none of a batch or all of it, no chunk without its document,
and a vector index that answers for every live note and for none of the deleted ones.

The fast runs are part of ``make test``; ``make test-long`` runs 100 kills (figures in bench/RESULTS.md)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from campaign_ops import Model, Op, plan
from rem_db import Database

TESTS = Path(__file__).parent
OPS = 400

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from campaign_ops import NOTES, perform, plan
    from rem_db import Database

    db_path, docs, seed, start = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    db = Database(db_path)
    db.register_schema(NOTES)
    print("ready", flush=True)
    for op in plan(seed, %(ops)d)[start:]:
        perform(db, op, docs)
        print(op.n, flush=True)
    print("end", flush=True)
    db.close()
""") % {"ops": OPS}


def kill_run(db_path: Path, docs: Path, seed: int, start: int, rng: random.Random) -> int:
    """Run the child from operation ``start``; kill it after a random number of acknowledgements plus a random
    delay (so the kill lands anywhere inside the next operation). Returns the last acknowledged operation."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(TESTS), str(db_path), str(docs), str(seed),
                              str(start)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = start - 1
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for _ in range(rng.randint(1, 12)):
            line = child.stdout.readline().strip()
            assert line and line != "end", f"child stopped early: {child.stderr.read()}"
            last = int(line)
        time.sleep(rng.random() * 0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=60)
    for line in child.stdout.read().split():  # acknowledged before the kill landed
        if line != "end":
            last = max(last, int(line))
    assert child.returncode == -signal.SIGKILL, child.stderr.read()
    return last


def check(db: Database, ops: list[Op], last: int) -> None:
    """The database after the acknowledged ops ``0..last``, with op ``last + 1`` possibly applied."""
    before, after = Model(), Model()
    for op in ops[:last + 1]:
        before.apply(op)
        after.apply(op)
    if last + 1 < len(ops):
        after.apply(ops[last + 1])
    keys = sorted(set(after.notes) | set(before.notes))
    found = db.lookup_batch(keys)
    applied = {(k, found[k][0]["body"] if found[k] else None) for k in keys}
    state_before = {(k, before.notes.get(k)) for k in keys}
    state_after = {(k, after.notes.get(k)) for k in keys}
    assert applied in (state_before, state_after), sorted(applied ^ state_before)[:6]

    live = [k for k, body in applied if body is not None]
    model = before if applied == state_before else after
    for key in random.Random(last).sample(live, min(12, len(live))):  # the index has caught up
        hits = db.search(model.texts[key], schema="notes", top_k=1)
        assert hits and hits[0][0]["key"] == key, (key, hits[:1])
    for key in [k for k in model.texts if model.notes[k] is None][:6]:  # deleted: out of the index too
        hits = db.search(model.texts[key], schema="notes", top_k=3)
        assert key not in {h[0]["key"] for h in hits}, key

    ids = {k: rows[0]["id"] for k, rows in found.items() if rows}
    for src, dst in model.edges:
        if src in live and dst in live:
            assert any(e["rel_type"] == "cites" and e["dst"] == ids[dst] for e in db.edges(src)), (src, dst)

    documents = {row["id"] for row in db.query("SELECT id FROM documents")}
    chunks = db.query("SELECT document_id FROM resources")
    assert all(row["document_id"] in documents for row in chunks)  # no orphan chunks
    uris = {row["uri"].rsplit("/", 1)[-1] for row in db.query("SELECT uri FROM documents")}
    assert before.docs <= uris <= after.docs


def campaign(tmp_path: Path, seed: int, kills: int, wal: bool) -> int:
    """``kills`` kill-and-check rounds on one database, each resuming after the last acknowledged op."""
    os.environ["P8_WAL_ENABLED"] = "true" if wal else "false"
    db_path, docs = tmp_path / "db", tmp_path / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    ops = plan(seed, OPS)
    rng = random.Random(seed)
    start, done = 0, 0
    while done < kills and start < OPS - 20:
        last = kill_run(db_path, docs, seed, start, rng)
        with Database(db_path) as db:
            check(db, ops, last)
            # the op cut off by the kill, if it happened, counts; resume after it either way
            next_op = ops[last + 1] if last + 1 < OPS else None
            start = last + 2 if next_op is not None and _applied(db, next_op) else last + 1
        done += 1
    return done


def _applied(db: Database, op: Op) -> bool:
    """Whether the cut-off operation made it (so the next run does not repeat it)."""
    if op.kind == "batch":
        return bool(db.lookup(op.rows[0]["key"]))
    if op.kind == "update":
        rows = db.lookup(op.key)
        return bool(rows) and rows[0]["body"] == op.body
    if op.kind == "delete":
        return not db.lookup(op.key)
    if op.kind == "edge":
        return any(e["properties"].get("op") == op.n for e in db.edges(op.key))
    return any(row["uri"].endswith("/" + op.doc) for row in db.query("SELECT uri FROM documents"))


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "no-wal"])
def test_kill_campaign(tmp_path: Path, wal: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_WAL_ENABLED", "true")  # restored after the test
    assert campaign(tmp_path, seed=11 if wal else 12, kills=5, wal=wal) == 5


@pytest.mark.long
@pytest.mark.parametrize("wal", [True, False], ids=["wal", "no-wal"])
def test_kill_campaign_long(tmp_path: Path, wal: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_WAL_ENABLED", "true")
    kills = 0
    for seed in range(100, 110):
        kills += campaign(tmp_path / f"s{seed}", seed=seed, kills=5, wal=wal)
    assert kills == 50
