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
