"""A replica in the same process as its primary, over real gRPC on 127.0.0.1: catch-up, live follow, the
replica's caches (schemas, vector index, full-text, graph, SQL) after new writes, read-only refusals,
promotion and the status reports."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from compare import NOTES, assert_same, hashing_provider, note, ranking, wal_records, write_step

from rem_db import Database, ReadOnlyError
from rem_db.errors import ReplicationError


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """``read()`` once ``done`` holds for it (the replicating thread updates its state right after applying)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[Database]:
    with hashing_provider():
        db = Database(tmp_path / "primary")
        db.register_schema(copy.deepcopy(NOTES))
        try:
            yield db
        finally:
            db.close()


def test_catch_up_without_follow_ends_at_the_primary_sequence(primary: Database, tmp_path: Path) -> None:
    for n in range(60):
        write_step(primary, n)
    server = primary.serve(port=0)
    replica = Database.open_replica(tmp_path / "replica", server.address)
    try:
        status = replica.replicate()
        assert status["state"] == "synced"
        assert status["position"] == primary._store.wal_seq() == status["primary_seq"]
        assert wal_records(replica) == wal_records(primary)  # every record once, in order
        contents = assert_same(primary, replica)
        assert len(contents["rows"]) > 50 and contents["search"] and contents["traverse"]
    finally:
        replica.close()


def test_follow_applies_live_writes_and_refreshes_caches(primary: Database, tmp_path: Path) -> None:
    primary.insert("notes", note(1))
    server = primary.serve(port=0)
    replica = Database.open_replica(tmp_path / "replica", server.address)
    try:
        handle = replica.replicate(follow=True)
        assert handle.wait_for(primary._store.wal_seq())
        # read on the replica first, so its caches (vector index, totals, registry) are loaded ...
        assert [e["key"] for e, _ in replica.search("volcano", "notes")] == ["n1"]
        assert replica.count("notes") == 1
        # ... then new writes on the primary: a new table, rows, an edge, a delete
        primary.register_schema({"title": "tags", "type": "object", "description": "Tags.",
                                 "properties": {"label": {"type": "string"}},
                                 "key_field": "label"})
        tag = primary.insert("tags", {"label": "geology"})
        for n in range(2, 30):
            write_step(primary, n)
        first = primary.lookup("n1")[0]
        primary.add_edge(first["id"], tag["id"], "tagged")
        assert handle.wait_for(primary._store.wal_seq())
        assert handle.status.state == "synced"
        assert "tags" in [s["short_name"] for s in replica.list_schemas()]
        assert replica.query("SELECT label FROM tags") == [{"label": "geology"}]
        assert replica.count("notes") == primary.count("notes")
        assert ranking(replica.search("glacier orchard", "notes", top_k=5)) \
            == ranking(primary.search("glacier orchard", "notes", top_k=5))
        # the full-text half of hybrid search: totals and BM25 scores (fused ranks depend on tie order)
        fulltext = [db._embedder.fulltext for db in (primary, replica)]
        assert fulltext[0].stats("notes") == fulltext[1].stats("notes")
        assert fulltext[0].search("notes", "volcano glacier", 10) == fulltext[1].search("notes", "volcano glacier", 10)
        assert replica.search("volcano", "notes", hybrid=True)
        assert [h["entity"]["label"] for h in replica.traverse(first["id"], rel_type="tagged")] == ["geology"]
        assert_same(primary, replica)
        handle.stop()
    finally:
        replica.close()


def test_replica_refuses_writes_until_promoted(primary: Database, tmp_path: Path) -> None:
    primary.insert("notes", note(1))
    server = primary.serve(port=0)
    path = tmp_path / "replica"
    replica = Database.open_replica(path, server.address)
    try:
        replica.replicate()
        existing = replica.lookup("n1")[0]
        for write in (lambda: replica.insert("notes", note(2)), lambda: replica.update(existing["id"], {"n": 5}),
                      lambda: replica.delete(existing["id"]), lambda: replica.register_schema({"title": "x"}),
                      lambda: replica.add_edge(existing["id"], existing["id"], "self")):
            with pytest.raises(ReadOnlyError, match="replica is read-only"):
                write()
        assert replica.replication_status()["mode"] == "replica"
        assert replica.promote()["sequence"] == primary._store.wal_seq()
        replica.insert("notes", note(2))  # a writable primary now
        assert replica.count("notes") == 2
        assert replica.replication_status()["mode"] == "none"
    finally:
        replica.close()
    # the promoted directory never follows the old primary again: its writes are not merged silently
    with pytest.raises(ReplicationError, match="promoted"):
        Database.open_replica(path, server.address)


def test_a_diverged_history_is_refused(primary: Database, tmp_path: Path) -> None:
    primary.insert("notes", note(1))
    server = primary.serve(port=0)
    other = Database(tmp_path / "other")  # its own built-in schema rows: another history
    other.close()
    replica = Database.open_replica(tmp_path / "other", server.address)
    try:
        with pytest.raises(ReplicationError, match="diverged"):
            replica.replicate()
    finally:
        replica.close()


def test_a_replica_ahead_of_its_primary_is_refused_not_synced(primary: Database, tmp_path: Path) -> None:
    """A replica of a longer history pointed at a shorter one (another database, or the primary restored from
    an older backup) is an error in both modes, and keeps its data."""
    for n in range(30):
        primary.insert("notes", note(n))
    server = primary.serve(port=0)
    replica = Database.open_replica(tmp_path / "replica", server.address)
    replica.replicate()
    position = replica._store.wal_seq()
    replica.close()
    server.stop()
    with hashing_provider():
        shorter = Database(tmp_path / "shorter")
        try:
            shorter.register_schema(copy.deepcopy(NOTES))
            shorter.insert("notes", note(1))
            other = shorter.serve(port=0)
            for follow in (False, True):
                again = Database.open_replica(tmp_path / "replica", other.address)
                try:
                    with pytest.raises(ReplicationError, match=f"at sequence {position}, ahead of the primary"):
                        if follow:
                            again.replicate(follow=True).wait(timeout=30)  # the following thread's refusal
                        else:
                            again.replicate()
                    assert again._store.wal_seq() == position and again.count("notes") == 30
                finally:
                    again.close()
        finally:
            shorter.close()


def test_status_reports(primary: Database, tmp_path: Path) -> None:
    for n in range(10):
        primary.insert("notes", note(n))
    server = primary.serve(port=0)
    replica = Database.open_replica(tmp_path / "replica", server.address)
    try:
        handle = replica.replicate(follow=True)
        assert handle.wait_for(primary._store.wal_seq())
        status = eventually(replica.replication_status, lambda s: s["state"] == "synced")
        assert status["mode"] == "replica" and status["primary"] == server.address
        assert status["state"] == "synced" and status["lag_entries"] == 0
        assert status["position"] == primary._store.wal_seq() and status["last_sync"]
        wal = primary.wal_status()
        assert wal["sequence"] == primary._store.wal_seq() and wal["entries"] == wal["sequence"]
        assert wal["bytes"] > 0 and wal["serving"] == server.address and wal["connected_replicas"] == 1
        assert primary.replication_status()["mode"] == "primary"
        assert server.status()["replica_count"] == 1
        handle.stop()
    finally:
        replica.close()
