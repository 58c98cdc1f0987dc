"""Issue 18, item 2: ``Database.close()`` when saving the vector indexes (or flushing) fails.

The failure is a typed :class:`StorageError` naming the index directory and the OS reason, RocksDB is still
closed and the directory released, and the next open catches up or rebuilds what was not saved. Tests run as
root, where a read-only mode does not stop writes, so the ``indexes`` directory is replaced by a regular file.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from vector_items import stored

from rem_db import Database, StorageError
from rem_db.index.hnsw import HnswIndex
from rem_db.storage.store import HOLDER_FILE

DOCS: dict[str, Any] = {
    "title": "docs",
    "type": "object",
    "description": "Short texts with embeddings.",
    "properties": {"name": {"type": "string"}, "content": {"type": "string"}},
    "key_field": "name",
    "embedding_fields": ["content"],
}
ROWS = [
    {"name": "bees", "content": "Bees make honey in their hives."},
    {"name": "trains", "content": "Trains run on steel rails between cities."},
]


def top(db: Database, query: str) -> str:
    """The name of the best hit of a vector search over ``docs``."""
    hits = db.search(query, "docs", top_k=1)
    assert hits, f"no hit for {query!r}"
    return str(hits[0][0]["name"])


def block_indexes(db_path: Path) -> Path | None:
    """Replace ``{db}/indexes`` by a regular file (so mkdir / np.save fail even as root); returns where the
    saved index files were moved, if there were any."""
    indexes = db_path / "indexes"
    moved = None
    if indexes.exists():
        moved = db_path.parent / "indexes.saved"
        shutil.move(str(indexes), str(moved))
    indexes.write_text("not a directory\n")
    return moved


def test_failed_index_save_raises_storage_error_and_still_releases_the_directory(db_path: Path) -> None:
    db = Database(db_path)
    db.register_schema(DOCS)
    db.insert_batch("docs", ROWS)
    assert top(db, "honey") == "bees"  # the index is loaded and holds the rows
    block_indexes(db_path)
    db.insert("docs", {"name": "cats", "content": "Cats chase mice around the barn."})

    with pytest.raises(StorageError) as caught:
        db.close()
    message = str(caught.value)
    assert str(db_path.resolve() / "indexes") in message and "Not a directory" in message
    assert isinstance(caught.value.__cause__, OSError)
    assert not (db_path / HOLDER_FILE).exists()
    db.close()  # a second close does nothing

    with Database(db_path) as reopened:  # the RocksDB LOCK was released: same process opens again
        assert reopened.count("docs") == 3
        assert top(reopened, "mice") == "cats"  # rebuilt from the stored vectors
        assert top(reopened, "railway") == "trains"
        reopened.wait_idle()
        (db_path / "indexes").unlink()  # unblocked: this close saves the rebuilt index
    with Database(db_path) as again:
        assert top(again, "honey") == "bees" and top(again, "mice") == "cats"
    assert any((db_path / "indexes").rglob("*.graph"))


def test_changes_not_saved_at_close_are_caught_up_on_the_next_open(db_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    db = Database(db_path)
    db.register_schema(DOCS)
    db.insert_batch("docs", ROWS)
    assert top(db, "honey") == "bees"
    db.wait_idle()  # the index files are saved now
    moved = block_indexes(db_path)
    assert moved is not None and any(moved.rglob("*.graph"))
    db.insert("docs", {"name": "cats", "content": "Cats chase mice around the barn."})
    db.delete(db.lookup("trains")[0]["id"])

    with pytest.raises(StorageError, match="cannot save the vector index of table 'docs'"):
        db.close()
    (db_path / "indexes").unlink()
    shutil.move(str(moved), str(db_path / "indexes"))  # the older saved index comes back

    caplog.clear()
    with caplog.at_level("WARNING", logger="rem_db.index"), Database(db_path) as reopened:
        assert top(reopened, "mice") == "cats"  # replayed from the WAL records after the saved sequence
        names = {hit[0]["name"] for hit in reopened.search("steel rails", "docs", top_k=5)}
        assert names == {"bees", "cats"}  # the deleted row is gone from the index too
    assert not [r for r in caplog.records if r.name == "rem_db.index"]  # caught up, not rebuilt


class _FailingFlush:
    """Stands in for the RocksDB handle: ``flush`` fails like a full disk, everything else is real."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def flush(self) -> None:
        raise Exception("IO error: No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_failed_flush_raises_storage_error_and_still_closes(db_path: Path) -> None:
    db = Database(db_path)
    db.insert("resources", {"uri": "u://a", "content": "kept by the RocksDB WAL"})
    store = db._store
    store._db = _FailingFlush(store._db)  # type: ignore[assignment]
    with pytest.raises(StorageError, match="No space left on device"):
        db.close()
    assert store.closed and not (db_path / HOLDER_FILE).exists()
    with Database(db_path) as reopened:
        assert reopened.count("resources") == 1


def test_hnsw_save_that_fails_leaves_no_temporary_files(tmp_path: Path) -> None:
    index = HnswIndex(4)
    vectors = dict(zip([b"a" * 16, b"b" * 16], np.eye(2, 4, dtype=np.float32), strict=True))
    index.upsert(list(vectors), np.vstack(list(vectors.values())))
    base = tmp_path / "t"
    (tmp_path / "t.tmp.ids.npy").mkdir()  # the id map cannot be written
    with pytest.raises(OSError):
        index.save(base)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tmp.ids.npy"]  # only the obstacle remains
    (tmp_path / "t.tmp.ids.npy").rmdir()
    index.save(base)
    assert len(HnswIndex.load(base, 4, stored(vectors))) == 2
