"""WAL retention (SPEC §9, §15; docs/replication.md): records trimmed by size and by age by the background
worker, the data and the commit position untouched, the first retained sequence exposed for replicas."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from backup_helpers import NOTES, hashing_provider, note, rows_by_id

from rem_db import Database
from rem_db.replication.retention import WalRetention, first_retained_seq, read_marks


@pytest.fixture(autouse=True)
def _provider() -> Iterator[None]:
    with hashing_provider():
        yield


def records(db: Database) -> list[int]:
    return [seq for seq, _ in db._store.wal_records(0)]


def retention(db: Database) -> WalRetention:
    task = db._core.retention
    assert task is not None
    return task


def test_the_background_worker_trims_the_oldest_records_past_the_size_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_WAL_MAX_SIZE_MB", "0.1")  # ~105 kB
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        for start in range(0, 600, 4):  # 150 commits of ~2 kB records (rows, vectors, postings)
            db.insert_batch("notes", [note(n) for n in range(start, start + 4)])
        last = db._store.wal_seq()
        before = rows_by_id(db)
        assert sum(len(record) for _, record in db._store.items("wal", b"", b"\xff" * 9)) > retention(db).max_bytes
        retention(db).check_seconds = 0.0  # due at once: the ticker queues a run on the worker
        deadline = time.monotonic() + 20
        while first_retained_seq(db._store) == 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        db.wait_idle()
        first = first_retained_seq(db._store)
        assert 1 < first <= last
        assert records(db) == list(range(first, last + 1))  # the newest records, gapless
        assert db._store.family_sizes()["wal"]["sst_bytes"] <= retention(db).max_bytes
        assert rows_by_id(db) == before  # trimming the log removes no data
        assert db.insert("notes", note(10_000))["key"] == "n10000"
        assert db._store.wal_seq() == last + 1
    with Database(tmp_path / "db", read_only=True) as db:  # the position survived the trim
        assert db._store.wal_seq() == last + 1 and db.count("notes") == 601
        assert db.search("honey bread", schema="notes", top_k=3)


def test_records_older_than_the_retention_are_trimmed_never_younger_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_WAL_RETENTION_HOURS", "1")
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        task = retention(db)
        now = time.time()
        db.insert_batch("notes", [note(n) for n in range(10)])
        old = db._store.wal_seq()
        task.run(now=now - 7200)  # marks: every record so far was written two hours ago
        for n in range(10, 20):
            db.insert("notes", note(n))
        young = db._store.wal_seq()
        task.run(now=now - 1800)  # and these half an hour ago
        assert first_retained_seq(db._store) == old + 1  # the two-hour-old ones went, at that run already
        assert [seq for seq, _ in read_marks(db._store)] == [young]  # marks go with their records
        report = task.run(now=now)
        assert report.trimmed_by_age == 0 and report.first_seq == old + 1
        assert records(db) == list(range(old + 1, young + 1))
        report = task.run(now=now + 1801)  # an hour and a second after the second mark
        assert report.trimmed_by_age == young - old and report.first_seq == young + 1
        assert records(db) == [] and first_retained_seq(db._store) == db._store.wal_seq() + 1
        assert db.count("notes") == 20
        assert [r["key"] for r in db.query("SELECT key FROM notes WHERE n >= 18 ORDER BY n")] == ["n18", "n19"]
        assert db.insert("notes", note(20))  # the next commit follows the position, not the (empty) log
        assert records(db) == [young + 1]


def test_closing_records_a_time_mark_and_the_next_open_trims_what_aged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.insert_batch("notes", [note(n) for n in range(5)])
        last = db._store.wal_seq()
    with Database(tmp_path / "db", read_only=True) as db:
        marks = read_marks(db._store)
        assert [seq for seq, _ in marks] == [last] and abs(marks[0][1] - time.time()) < 60
        assert db._core.retention is None  # a read-only open never trims
    monkeypatch.setenv("P8_WAL_RETENTION_HOURS", "0.0001")  # 0.36 s
    time.sleep(0.5)
    with Database(tmp_path / "db") as db:
        db.wait_idle()  # the run queued at open
        assert records(db) == [] and db._store.wal_seq() == last and db.count("notes") == 5


def test_first_retained_seq_tells_a_replica_whether_it_can_catch_up(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        assert first_retained_seq(db._store) == 1
        for n in range(6):
            db.insert("notes", note(n))
        last = db._store.wal_seq()
        db._store.trim_wal(last - 3)
        first = first_retained_seq(db._store)
        assert first == last - 2
        replica_positions = {last - 3: True, last - 4: False, last: True}  # position p needs records p + 1 ...
        assert {p: p + 1 >= first for p in replica_positions} == replica_positions
        assert [seq for seq, _ in db._store.wal_records(first - 1)] == [last - 2, last - 1, last]
        assert db._store.trim_wal(last + 50) == last + 1  # never past the last commit; position kept
        assert db._store.wal_seq() == last


def test_the_remembered_first_retained_seq_follows_commits_trims_and_other_handles(tmp_path: Path) -> None:
    def stored_first(db: Database) -> int | None:  # what a fresh lookup finds
        found = records(db)
        return found[0] if found else None

    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        store = db._store
        assert store.wal_first_seq() == stored_first(db) == 1
        db.insert_batch("notes", [note(n) for n in range(4)])
        assert store.wal_first_seq() == 1  # commits after the first record do not move it
        store.trim_wal(store.wal_seq())  # every record
        assert store.wal_first_seq() is None and stored_first(db) is None
        db.insert("notes", note(10))  # the first record after an empty log
        assert store.wal_first_seq() == store.wal_seq() == stored_first(db)
        db.insert("notes", note(11))
        store.trim_wal(store.wal_seq() - 1)
        assert store.wal_first_seq() == store.wal_seq() == stored_first(db)
        last = store.wal_seq()
        with Database(tmp_path / "db", read_only=True) as reader:
            assert reader._store.wal_first_seq() == last
        db.insert("notes", note(12))
        assert store.wal_first_seq() == last  # unchanged by a later commit
    with Database(tmp_path / "db") as db:  # a new handle finds it again
        assert db._store.wal_first_seq() == stored_first(db) == last
