"""``Database.stats([table])`` (SPEC §13, §14): rows per table, disk per area, vector index sizes, the WAL's
range and size, embedding providers, encryption and the replication role."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from backup_helpers import NOTES, SPEC, hashing_provider, note

from core_helpers import PRODUCTS, product
from rem_db import Database, NotFoundError
from rem_db.replication.stats import ROLE_KEY


@pytest.fixture(autouse=True)
def _provider() -> Iterator[None]:
    with hashing_provider():
        yield


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "db") as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.register_schema(copy.deepcopy(PRODUCTS))
        notes = db.insert_batch("notes", [note(n) for n in range(200)])
        db.insert_batch("products", [product(f"P{n}") for n in range(30)])
        db.add_edges([(notes[n]["id"], notes[n + 1]["id"], "next") for n in range(50)])
        db.delete(notes[0]["id"])  # soft-deleted: not a live row, its vector stays
        db.wait_idle()
        yield db


def test_stats_report_rows_vectors_indexes_disk_and_wal(loaded: Database) -> None:
    stats = loaded.stats()
    assert {"path", "tenant", "read_only", "encrypted", "tables", "wal_seq"} <= stats.keys()  # the keys of old
    assert stats["tables"]["notes"] == 199 and stats["tables"]["products"] == 30
    notes = stats["details"]["notes"]
    assert notes["embedding"] == {"provider": SPEC, "dimensions": 32, "vectors": 200}
    index = notes["vector_index"]
    assert index["kind"] == "hnsw" and index["elements"] == 200 and index["file_bytes"] > 0
    assert index["covers_seq"] <= stats["wal_seq"]
    assert stats["details"]["products"] == {"rows": 30, "embedding": None, "vector_index": None}
    disk = stats["disk"]
    for area in ("entities", "indexes", "vectors", "fulltext", "graph", "wal", "vector_index_files"):
        assert disk[area] > 0, area
    assert disk["vectors"] >= disk["vector_index_files"] == index["file_bytes"]
    assert disk["total"] == sum(v for k, v in disk.items() if k not in ("total", "vector_index_files"))
    wal = stats["wal"]
    assert wal["sequence"] == stats["wal_seq"] and wal["first_retained_seq"] == 1 and wal["records"] == wal["sequence"]
    assert wal["bytes"] > 0 and wal["retention_hours"] == 24 and wal["max_size_mb"] == 100
    assert stats["replication"] == {"role": "none"} and stats["encrypted"] is False


def test_stats_of_one_table_and_of_an_unknown_one(loaded: Database) -> None:
    one = loaded.stats("products")
    assert one["table"] == "products" and one["tables"] == {"products": 30}
    assert list(one["details"]) == ["products"]
    with pytest.raises(NotFoundError, match="nope"):
        loaded.stats("nope")


def test_stats_follow_trimming_and_the_replication_role(loaded: Database) -> None:
    last = loaded._store.wal_seq()
    loaded._store.trim_wal(last - 2)
    wal = loaded.stats()["wal"]
    assert wal["first_retained_seq"] == last - 1 and wal["records"] == 2
    loaded._store.put_local("meta", ROLE_KEY, b"primary")
    assert loaded.stats()["replication"] == {"role": "primary"}


def test_stats_of_a_read_only_and_an_encrypted_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    with Database(tmp_path / "db", password="pw") as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.insert_batch("notes", [note(n) for n in range(10)])
    with Database(tmp_path / "db", password="pw", read_only=True) as db:
        stats = db.stats("notes")
        assert stats["encrypted"] is True and stats["read_only"] is True
        assert stats["details"]["notes"]["rows"] == 10 and stats["details"]["notes"]["vector_index"]["elements"] == 10
