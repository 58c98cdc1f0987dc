"""The storage layer's whole-store operations (docs/architecture.md, KVStore): snapshots, checkpoints and a
secondary instance that follows a writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from rem_db import Database
from rem_db.errors import StorageError
from rem_db.storage.store import Store


def _put(store: Store, cf: str, key: bytes, value: bytes) -> int:
    batch = store.batch()
    batch.put(cf, key, value)
    return store.write(batch)


def test_a_snapshot_keeps_one_commit_across_families(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    try:
        batch = store.batch()
        batch.put("meta", b"k", b"old")
        batch.put("entities", b"e", b"old entity")
        seq = store.write(batch)
        snap = store.snapshot()
        batch = store.batch()
        batch.put("meta", b"k", b"new")
        batch.delete("entities", b"e")
        store.write(batch)
        assert (snap.get("meta", b"k"), snap.get("entities", b"e"), snap.wal_seq) == (b"old", b"old entity", seq)
        assert snap.get("meta", b"missing") is None
        assert (store.get("meta", b"k"), store.get("entities", b"e")) == (b"new", None)
        snap.close()
    finally:
        store.close()


def test_a_checkpoint_is_a_consistent_openable_copy(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        row = db.insert("resources", {"uri": "u://kept", "content": "kept"})
        db._store.checkpoint(tmp_path / "copy")
        db.insert("resources", {"uri": "u://later", "content": "later"})
        with pytest.raises(StorageError, match="already exists"):
            db._store.checkpoint(tmp_path / "copy")
    with Database(tmp_path / "copy") as copy:
        assert copy.get(row["id"])["content"] == "kept"
        assert copy.lookup("u://later") == []


def test_a_secondary_instance_follows_the_writer(tmp_path: Path) -> None:
    writer = Store(tmp_path / "db")
    try:
        _put(writer, "meta", b"a", b"1")
        writer.flush()
        follower = Store(tmp_path / "db", secondary=tmp_path / "secondary")
        try:
            assert follower.get("meta", b"a") == b"1"
            seq = _put(writer, "meta", b"b", b"2")
            follower.catch_up()
            assert follower.get("meta", b"b") == b"2" and follower.wal_seq() == seq
            with pytest.raises(Exception, match="read-only"):
                follower.batch()
        finally:
            follower.close()
    finally:
        writer.close()


def test_the_wal_position_survives_reopen_even_when_no_record_is_left(tmp_path: Path) -> None:
    # retention may trim every record; the next commit must still continue the sequence, never reuse it
    store = Store(tmp_path / "db")
    try:
        for n in range(3):
            seq = _put(store, "meta", b"k%d" % n, b"v")
        batch = store.batch()
        for record_seq, _ in list(store.wal_records(1)):
            batch.delete("wal", record_seq.to_bytes(8, "big"))
        trimmed = store.write(batch)
        assert trimmed == seq + 1
    finally:
        store.close()
    store = Store(tmp_path / "db")
    try:
        assert store.wal_seq() == trimmed
        assert _put(store, "meta", b"after", b"v") == trimmed + 1
    finally:
        store.close()
