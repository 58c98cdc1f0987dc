"""Opening, locking, read-only access, bad paths, persistence and tenant scoping of a REM directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core_helpers import PRODUCTS, product
from rem_db import (
    Database,
    DatabaseError,
    LockedError,
    NotFoundError,
    ReadOnlyError,
    StorageError,
)

PYTHON = sys.executable


# -- locking ---------------------------------------------------------------------------------------
def test_second_writer_in_same_process_gets_locked_error_naming_holder(db: Database, db_path: Path) -> None:
    db.insert("resources", {"uri": "u://kept", "content": "still here"})
    with pytest.raises(LockedError) as err:
        Database(db_path)
    message = str(err.value)
    assert str(db_path.resolve()) in message
    assert f"pid {os.getpid()}" in message
    assert "read_only" in message or "read-only" in message
    # the failed open changed nothing: the first handle keeps working
    assert db.lookup("u://kept")[0]["content"] == "still here"
    db.insert("resources", {"uri": "u://after", "content": "x"})
    assert db.count("resources") == 2


def test_lock_is_released_on_close_and_by_context_manager(db_path: Path) -> None:
    with Database(db_path) as first:
        first.insert("resources", {"uri": "u://1", "content": "a"})
    with Database(db_path) as second:
        assert second.count("resources") == 1
    third = Database(db_path)
    third.close()
    third.close()  # closing twice is harmless


HOLDER_SCRIPT = textwrap.dedent("""
    import sys
    from rem_db import Database
    db = Database(sys.argv[1])
    db.insert("resources", {"uri": "u://from-child", "content": "written by the child"})
    print("ready", flush=True)
    sys.stdin.read()  # hold the lock until the parent closes our stdin
    db.close()
    print("closed", flush=True)
""")


def test_writer_in_another_process_locks_out_writers_but_not_readers(db_path: Path) -> None:
    child = subprocess.Popen([PYTHON, "-c", HOLDER_SCRIPT, str(db_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        with pytest.raises(LockedError) as err:
            Database(db_path)
        assert f"pid {child.pid}" in str(err.value)
        assert str(db_path.resolve()) in str(err.value)

        with Database(db_path, read_only=True) as reader:
            [row] = reader.lookup("u://from-child")
            assert row["content"] == "written by the child"
            assert reader.count("resources") == 1
            with pytest.raises(ReadOnlyError):
                reader.insert("resources", {"content": "nope"})
    finally:
        child.stdin.close()
        out = child.stdout.read()
        child.wait(timeout=30)
    assert "closed" in out and child.returncode == 0
    with Database(db_path) as db:  # released: a writer gets in now
        assert db.count("resources") == 1


# -- read-only -------------------------------------------------------------------------------------
def test_read_only_handle_refuses_every_write_and_changes_nothing(db: Database, db_path: Path) -> None:
    db.register_schema(PRODUCTS)
    kept = db.insert("products", product("RO-1", price=5))
    ro = Database(db_path, read_only=True)
    try:
        assert ro.read_only
        assert ro.get(kept["id"])["price"] == 5
        assert ro.count("products") == 1
        assert ro.get_schema("products")["key_field"] == "product_code"
        writes = [
            lambda: ro.insert("products", product("RO-2")),
            lambda: ro.insert_batch("products", [product("RO-3")]),
            lambda: ro.upsert("products", product("RO-1", price=99)),
            lambda: ro.update(kept["id"], {"price": 99}),
            lambda: ro.delete(kept["id"]),
            lambda: ro.delete(kept["id"], hard=True),
            lambda: ro.register_schema({**PRODUCTS, "title": "other", "description": "x"}),
            lambda: ro.remove_schema("products"),
            lambda: ro.add_schema_from_template("t1", "entities"),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyError):
                write()
    finally:
        ro.close()
    assert db.get(kept["id"])["price"] == 5
    assert db.count("products") == 1
    assert [s["short_name"] for s in db.list_schemas(category="user")] == ["products"]


def test_read_only_open_of_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as err:
        Database(tmp_path / "nowhere", read_only=True)
    assert "nowhere" in str(err.value)
    assert not (tmp_path / "nowhere").exists()


def test_read_only_open_of_empty_directory_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError):
        Database(tmp_path / "empty", read_only=True)


# -- bad paths -------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_only", [False, True])
def test_database_path_that_is_a_file_is_a_storage_error(tmp_path: Path, read_only: bool) -> None:
    target = tmp_path / "plain.txt"
    target.write_text("not a database")
    with pytest.raises(StorageError) as err:
        Database(target, read_only=read_only)
    assert "plain.txt" in str(err.value)
    assert target.read_text() == "not a database"


def test_database_path_below_a_file_is_a_storage_error(tmp_path: Path) -> None:
    """`--db-path some_file/db`: the directory cannot be created; that must be a clear DatabaseError too."""
    parent = tmp_path / "plain.txt"
    parent.write_text("not a directory")
    with pytest.raises(StorageError):
        Database(parent / "db")
    assert parent.read_text() == "not a directory"


def test_every_library_error_is_a_database_error(db: Database) -> None:
    for call in (lambda: db.get("not-a-uuid"), lambda: db.count("no_such_table"),
                 lambda: db.insert("resources", 42)):
        with pytest.raises(DatabaseError):
            call()


# -- persistence -----------------------------------------------------------------------------------
def test_data_schemas_and_indexes_survive_reopen(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema(PRODUCTS)
        rows = db.insert_batch("products", [product(f"P-{n}", category="tools" if n % 2 else "toys")
                                            for n in range(50)])
        db.delete(rows[0]["id"])
    with Database(db_path) as db:
        assert db.count("products") == 49
        assert db.count("products", include_deleted=True) == 50
        assert db.get(rows[1]["id"]) == rows[1]
        assert db.lookup("P-7")[0]["id"] == rows[7]["id"]
        schema = db.schemas.get("products")
        assert len(db.index.equal(schema, "category", "tools")) == 25
        assert db.get_schema("products")["indexed_fields"] == PRODUCTS["indexed_fields"]


def test_close_drains_the_background_worker(db_path: Path) -> None:
    db = Database(db_path)
    gate = threading.Event()
    done: list[int] = []
    db.worker.submit(gate.wait, 5)
    for n in range(5):
        db.worker.submit(done.append, n)
    threading.Timer(0.05, gate.set).start()
    db.close()
    assert done == [0, 1, 2, 3, 4]


def test_stats_report_rows_per_table(db: Database) -> None:
    db.insert_batch("resources", [{"uri": f"u://{n}", "content": "c"} for n in range(3)])
    stats = db.stats()
    assert stats["tables"]["resources"] == 3
    assert stats["tenant"] == "default"
    assert stats["read_only"] is False
    assert set(stats["tables"]) >= {"schemas", "documents", "resources", "moments", "sessions", "messages"}


# -- tenants ---------------------------------------------------------------------------------------
def _tenant_view(db: Database, uri: str) -> dict[str, object]:
    schema = db.schemas.get("resources")
    return {
        "lookup": [r["content"] for r in db.lookup(uri)],
        "count": db.count("resources"),
        "rows": sorted(r["content"] for r in db.rows("resources")),
        "category": len(db.index.equal(schema, "category", "shared-cat")),
    }


def test_tenants_are_isolated_both_ways(db_path: Path) -> None:
    with Database(db_path, tenant_id="alpha") as a:
        only_a = a.insert("resources", {"uri": "u://only-a", "content": "A private", "category": "shared-cat"})
        same_a = a.insert("resources", {"uri": "u://same", "content": "A copy", "category": "shared-cat"})
    with Database(db_path, tenant_id="beta") as b:
        assert _tenant_view(b, "u://only-a") == {"lookup": [], "count": 0, "rows": [], "category": 0}
        assert b.lookup("u://same") == []
        with pytest.raises(NotFoundError):
            b.get(only_a["id"])
        assert b.get_batch([only_a["id"], same_a["id"]]) == [None, None]
        same_b = b.insert("resources", {"uri": "u://same", "content": "B copy", "category": "shared-cat"})
        b.insert("resources", {"uri": "u://only-b", "content": "B private"})
        assert same_b["id"] == same_a["id"]  # deterministic ids agree, rows do not leak
        b.delete(same_b["id"], hard=True)
    with Database(db_path, tenant_id="alpha") as a:
        assert a.lookup("u://only-b") == []
        assert a.get(same_a["id"])["content"] == "A copy"  # B's hard delete did not touch A's row
        assert _tenant_view(a, "u://same") == {"lookup": ["A copy"], "count": 2, "rows": ["A copy", "A private"],
                                               "category": 2}
    with Database(db_path, tenant_id="beta") as b:
        assert _tenant_view(b, "u://only-b") == {"lookup": ["B private"], "count": 1, "rows": ["B private"],
                                                 "category": 0}


def test_tenant_names_that_share_a_prefix_do_not_overlap(db_path: Path) -> None:
    with Database(db_path, tenant_id="acme") as a:
        a.insert("resources", {"uri": "u://x", "content": "acme"})
    with Database(db_path, tenant_id="acme2") as b:
        assert b.count("resources") == 0 and b.lookup("u://x") == []
    with Database(db_path, tenant_id="acm") as c:
        assert c.count("resources") == 0 and c.lookup("u://x") == []


def test_tenant_defaults_to_env_variable(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_TENANT_ID", "from-env")
    with Database(db_path) as db:
        assert db.tenant_id == "from-env"
        db.insert("resources", {"uri": "u://env", "content": "c"})
    monkeypatch.delenv("P8_TENANT_ID")
    with Database(db_path) as db:
        assert db.tenant_id == "default"
        assert db.lookup("u://env") == []
    with Database(db_path, tenant_id="from-env") as db:
        assert len(db.lookup("u://env")) == 1


def test_builtin_schemas_exist_for_a_new_tenant(db_path: Path) -> None:
    with Database(db_path, tenant_id="fresh") as db:
        names = {s["short_name"] for s in db.list_schemas(category="system")}
        assert names == {"schemas", "documents", "resources", "moments", "sessions", "messages"}


def test_using_a_closed_database_raises_a_database_error(db_path: Path) -> None:
    db = Database(db_path)
    row = db.insert("resources", {"uri": "u://closed", "content": "c"})
    db.close()
    calls = [lambda: db.get(row["id"]), lambda: db.insert("resources", {"content": "x"}),
             lambda: db.count("resources"), lambda: db.lookup("u://closed"),
             lambda: db.query("SELECT * FROM resources")]
    for call in calls:
        with pytest.raises(DatabaseError):
            call()


def test_wal_sequence_is_gapless_and_continues_after_reopen(db_path: Path) -> None:
    """One WAL record per commit (storage/wal.py): a refused batch takes no sequence number."""
    from rem_db import ValidationError

    def records(db: Database) -> list[int]:
        return [seq for seq, _ in db._store.wal_records(1)]

    with Database(db_path) as db:
        start = db.stats()["wal_seq"]
        rows = db.insert_batch("resources", [{"uri": f"u://{n}", "content": "c"} for n in range(5)])
        with pytest.raises(ValidationError):
            db.insert_batch("resources", [{"uri": "u://bad"}])  # refused: must not consume sequence numbers
        db.update(rows[0]["id"], {"content": "changed"})
        db.delete(rows[1]["id"])
        db.delete(rows[2]["id"], hard=True)
        seq = db.stats()["wal_seq"]
        assert seq == start + 4  # the batch, the update, the soft and the hard delete: one commit each
        assert records(db) == list(range(1, seq + 1))
    with Database(db_path) as db:
        assert db.stats()["wal_seq"] == seq
        db.insert("resources", {"uri": "u://next", "content": "c"})
        assert db.stats()["wal_seq"] == seq + 1
        assert records(db) == list(range(1, seq + 2))
