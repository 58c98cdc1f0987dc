"""Backup and restore (SPEC §9, §13, §14; docs/replication.md): an online, consistent copy while writes go on,
restore into new or empty directories only, encrypted backups stay encrypted, read-only handles back up what
they see."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from backup_helpers import NOTES, SPEC, HashingProvider, hashing_provider, note, rows_by_id

from core_helpers import replayed_state
from rem_db import Database, EncryptionError, NotFoundError, StorageError
from rem_db.replication.snapshot import MARKER, read_snapshot

QUERIES = ["honey bread", "train glacier violin", "comet harbour", "desert falcon note"]


@pytest.fixture(autouse=True)
def _provider() -> Iterator[None]:
    with hashing_provider():
        yield


def store_state(db: Database) -> dict[tuple[str, bytes], bytes]:
    """Every key and value as stored (the WAL aside), without the directory's local bookkeeping (position,
    index manifests, WAL time marks): what a commit sequence determines."""
    store = db._store
    local = (b"wal.position", b"wal.timemarks")
    return {(cf, key): value for cf in store.cfs if cf != "wal"
            for key, value in store.items(cf, b"", b"\xff" * 64)
            if cf != "meta" or not (key in local or key.startswith(b"index.manifest/"))}


def filled(path: Path, rows: int = 300) -> Database:
    db = Database(path)
    db.register_schema(copy.deepcopy(NOTES))
    made = db.insert_batch("notes", [note(n) for n in range(rows)])
    db.add_edges([(made[n]["id"], made[(n * 7 + 1) % rows]["id"], "next") for n in range(0, rows, 3)])
    db.wait_idle()
    return db


def scores(db: Database, query: str, k: int = 5) -> list[float]:
    return [round(score, 4) for _, score in db.search(query, schema="notes", top_k=k)]


def assert_search_agrees_with_data(db: Database) -> None:
    """Searches are answered from an index that matches the stored data: every hit is a row of this database
    scored with its stored vector (a stale or foreign index entry would score otherwise), the best hit is the
    brute-force best, and the index holds exactly the stored vectors."""
    provider = HashingProvider(SPEC.split(":")[1])
    stored = {r["id"]: np.asarray(db.get(r["id"], include_embeddings=True)["embedding"], np.float32)
              for r in db.rows("notes")}
    detail = db.stats("notes")["details"]["notes"]
    assert detail["vector_index"]["elements"] == detail["embedding"]["vectors"]
    for query in QUERIES:
        q = provider.embed_batch([query])[0]
        # a breadth above the row count (at most 10,000): the graph is searched through, so a miss is a missing
        # entry, not HNSW's approximation (hashed test vectors are mostly orthogonal, hard for a greedy walk)
        hits = db.search(query, schema="notes", top_k=5, ef=min(10_000, max(64, 2 * len(stored))))
        assert len(hits) == 5
        for row, score in hits:
            assert score == pytest.approx(float(stored[row["id"]] @ q), abs=1e-4)
        assert hits[0][1] == pytest.approx(max(float(v @ q) for v in stored.values()), abs=1e-4)


def test_backup_while_a_thread_writes_holds_exactly_the_commits_up_to_its_sequence(tmp_path: Path) -> None:
    db = filled(tmp_path / "db")
    ids = [r["id"] for r in db.rows("notes")]
    stop, started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:  # inserts (with vectors), edges, updates, soft and hard deletes, one commit each
        n = 1000
        try:
            while not stop.is_set():
                row = db.insert("notes", note(n))
                if n % 3 == 0:
                    db.add_edge(row["id"], ids[n % len(ids)], "cites", {"n": n})
                if n % 5 == 0:
                    db.update(ids[n % len(ids)], {"body": f"revised {note(n)['body']}"})
                if n % 11 == 0:
                    db.delete(row["id"], hard=n % 2 == 0)
                n += 1
                if n == 1030:
                    started.set()
        except BaseException as exc:
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(30)
        before = db._store.wal_seq()
        summary = db.backup(tmp_path / "backup")
        after = db._store.wal_seq()
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert before <= summary["sequence"] <= after and db._store.wal_seq() > summary["sequence"]
    assert summary["path"] == str(tmp_path / "backup") and summary["bytes"] > 0 and summary["seconds"] >= 0
    assert read_snapshot(tmp_path / "backup").sequence == summary["sequence"]
    expected = replayed_state(db, upto=summary["sequence"])  # the primary as of that commit, from its WAL
    with Database(tmp_path / "backup", read_only=True) as copy_db:
        assert copy_db._store.wal_seq() == summary["sequence"]
        assert store_state(copy_db) == expected  # every row, index entry, edge, vector and posting
        rows = rows_by_id(copy_db)
        assert len(rows) == copy_db.count("notes", include_deleted=True) > 300
        assert all(len(r["embedding"]) == 32 for r in rows.values())
        assert_search_agrees_with_data(copy_db)  # the copied index, caught up to the copy's sequence
        assert copy_db.stats("notes")["details"]["notes"]["vector_index"]["covers_seq"] == summary["sequence"]
    # restored elsewhere, the copy opens read-write and takes new commits after its sequence
    Database.restore(tmp_path / "backup", tmp_path / "restored")
    with Database(tmp_path / "restored") as restored:
        assert rows_by_id(restored) == rows
        assert restored.insert("notes", note(99_999))["key"] == "n99999"
        assert restored._store.wal_seq() == summary["sequence"] + 1
    db.close()


def test_backup_of_a_quiet_database_keeps_its_vector_index_and_restores_query_ready(tmp_path: Path) -> None:
    with filled(tmp_path / "db") as db:
        summary = db.backup(tmp_path / "bk")
        original = rows_by_id(db)
        answers = {q: scores(db, q) for q in QUERIES}
    assert summary["indexes"] == 1 and summary["encrypted"] is False
    marker = orjson.loads((tmp_path / "bk" / MARKER).read_bytes())
    assert marker["indexes"] == ["indexes/default/notes__bkhash%3A32"]
    assert not {"LOCK", "HOLDER"} & {p.name for p in (tmp_path / "bk").iterdir()}
    restored = Database.restore(tmp_path / "bk", tmp_path / "new")
    assert restored["sequence"] == summary["sequence"] and restored["path"] == str(tmp_path / "new")
    assert not (tmp_path / "new" / MARKER).exists()
    with Database(tmp_path / "new") as db:
        assert rows_by_id(db) == original
        db.wait_idle()  # the saved files answer (exactly) until the graph is loaded: compare the graph's scores
        assert {q: scores(db, q) for q in QUERIES} == answers
        index = db.stats("notes")["details"]["notes"]["vector_index"]
        assert index["kind"] == "hnsw" and index["elements"] == 300  # loaded from the copied files, not rebuilt


def test_restore_refuses_a_non_empty_target_and_writes_nothing(tmp_path: Path) -> None:
    with filled(tmp_path / "db", rows=20) as db:
        db.backup(tmp_path / "bk")
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(StorageError, match=r"restore target .*target is not empty \(1 entries: keep.txt\)"):
        Database.restore(tmp_path / "bk", target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bk", "db", "target"]  # no staging left behind
    (target / "keep.txt").unlink()  # an empty directory is fine
    assert Database.restore(tmp_path / "bk", target)["sequence"] > 0
    with Database(target, read_only=True) as db:
        assert db.count("notes") == 20


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    with filled(tmp_path / "db", rows=5) as db:
        pass
    with pytest.raises(NotFoundError, match="no backup at"):
        Database.restore(tmp_path / "missing", tmp_path / "a")
    with pytest.raises(StorageError, match=r"is not a REM backup \(no REM_SNAPSHOT.json"):
        Database.restore(tmp_path / "db", tmp_path / "a")  # a database directory is not a backup
    assert not (tmp_path / "a").exists()
    assert db.path.exists()


def test_backup_refuses_an_existing_target_or_one_inside_the_database(tmp_path: Path) -> None:
    with filled(tmp_path / "db", rows=5) as db:
        (tmp_path / "there").mkdir()
        with pytest.raises(StorageError, match=r"backup target .*there already exists"):
            db.backup(tmp_path / "there")
        assert list((tmp_path / "there").iterdir()) == []
        with pytest.raises(StorageError, match="inside the database directory"):
            db.backup(tmp_path / "db" / "bk")
        with pytest.raises(NotFoundError, match="does not exist"):
            db.backup(tmp_path / "no" / "such" / "dir")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "there"]


def test_a_read_only_handle_backs_up_what_it_sees_including_unflushed_commits(tmp_path: Path) -> None:
    writer = filled(tmp_path / "db", rows=50)
    try:
        writer.insert_batch("notes", [note(n) for n in range(50, 80)])  # in RocksDB's memtables and log only
        writer.wait_idle()
        with Database(tmp_path / "db", read_only=True) as reader:
            seen = reader._store.wal_seq()
            writer.insert_batch("notes", [note(n) for n in range(80, 120)])  # after the reader opened
            writer.wait_idle()  # the index files now cover commits the reader does not see
            summary = reader.backup(tmp_path / "bk")
            expected = store_state(reader)
        assert summary["sequence"] == seen
        assert summary["indexes"] == 0  # the writer's index files are ahead of the copy: left out, rebuilt
        with Database(tmp_path / "bk", read_only=True) as copy_db:
            assert store_state(copy_db) == expected and copy_db.count("notes") == 80
            assert_search_agrees_with_data(copy_db)
    finally:
        writer.close()


def test_an_encrypted_backup_stays_encrypted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    secret = "zorblaxquux"
    with Database(tmp_path / "db", password="pw") as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.insert("notes", {"key": "k1", "body": f"the {secret} recipe"})
        summary = db.backup(tmp_path / "bk")
    assert summary["encrypted"] is True
    assert not [p for p in (tmp_path / "bk").rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    Database.restore(tmp_path / "bk", tmp_path / "restored")
    with pytest.raises(EncryptionError, match="encrypted"):
        Database(tmp_path / "restored")
    with Database(tmp_path / "restored", password="pw", read_only=True) as db:
        assert db.lookup("k1")[0]["body"] == f"the {secret} recipe"
        assert db.search("recipe", schema="notes", top_k=1)[0][0]["key"] == "k1"
