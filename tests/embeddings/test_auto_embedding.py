"""Embedding on the write path: batching, skipping unchanged text, async embeddings, atomicity, deletes,
provider changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from embed_helpers import NOTES, openai_notes
from fake_openai import FakeOpenAI, vector_for

from rem_db import Database, EmbeddingError


def note(n: int, body: str | None = None, topic: str = "misc") -> dict:
    return {"key": f"n{n}", "title": f"Note {n}", "body": body or f"body text number {n}", "topic": topic}


def stored_vector(db: Database, table: str, key: str, spec: str) -> np.ndarray | None:
    entity = db.lookup(key)[0]
    import uuid

    return db._vectors.get_many(table, spec, [uuid.UUID(entity["id"]).bytes])[0]


SPEC = "openai:text-embedding-3-small"


def test_batch_insert_makes_one_provider_call_per_batch(tmp_path: Path, openai_server: FakeOpenAI,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_EMBEDDING_BATCH_SIZE", "100")
    with Database(tmp_path / "db") as db:
        db.register_schema(openai_notes())
        db.insert_batch("onotes", [note(n) for n in range(250)])
        calls: list[tuple[int, int]] = []
        db.insert_batch("onotes", [note(n) for n in range(250, 260)], progress=lambda *a: calls.append(a))
        assert [len(r) for r in openai_server.requests] == [100, 100, 50, 10]
        assert calls == [(10, 10)]
        vec = stored_vector(db, "onotes", "n7", SPEC)
        expected = np.array(vector_for("Note 7\n\nbody text number 7", 1536), dtype=np.float32)
        assert float(vec @ expected) > 0.9999  # embedding_fields joined with a blank line, in order
        assert vec.dtype == np.float32 and vec.shape == (1536,)


def test_unchanged_text_is_not_embedded_again(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(openai_notes())
        first = db.insert("onotes", note(1))
        assert len(openai_server.requests) == 1
        db.insert("onotes", {**note(1), "topic": "other"})  # upsert, same embedded text
        db.update(first["id"], {"topic": "third"})
        assert len(openai_server.requests) == 1
        db.update(first["id"], {"body": "a new body"})
        assert openai_server.requests[-1] == ["Note 1\n\na new body"]
        hits = db.search("anything", schema="onotes", top_k=5)
        assert [e["key"] for e, _ in hits] == ["n1"]


def test_provider_failure_writes_nothing(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(openai_notes())
        openai_server.fail_with = [401]
        openai_server.api_key = "rotated"  # every request is now unauthorised
        with pytest.raises(EmbeddingError, match="authentication failed"):
            db.insert_batch("onotes", [note(n) for n in range(10)])
        assert db.count("onotes") == 0
        assert db.lookup("n1") == []


def test_async_embeddings_become_searchable_after_wait_idle(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(1, "Sourdough needs a lively starter and a long, cool proof."),
                                  note(2, "Bees turn nectar into honey by evaporating its water.")],
                        async_embeddings=True)
        assert db.count("notes") == 2  # written at once
        assert db.wait_idle(timeout=60)
        hits = db.search("how is honey made", schema="notes", top_k=1)
        assert hits[0][0]["key"] == "n2"


def test_hard_delete_removes_vectors_and_search_hits(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(1, "Volcanoes erupt molten rock."), note(2, "Glaciers carve valleys.")])
        gone = db.lookup("n1")[0]
        db.delete(gone["id"], hard=True)
        assert stored_vector(db, "notes", "n2", "local:all-MiniLM-L6-v2") is not None
        assert db._vectors.count("notes", "local:all-MiniLM-L6-v2") == 1
        assert [e["key"] for e, _ in db.search("lava eruption", schema="notes", top_k=5)] == ["n2"]


def test_soft_deleted_rows_leave_search_unless_asked(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(n, f"ocean sailing story {n}") for n in range(5)])
        db.delete(db.lookup("n3")[0]["id"])
        keys = [e["key"] for e, _ in db.search("sailing", schema="notes", top_k=10)]
        assert sorted(keys) == ["n0", "n1", "n2", "n4"]
        with_deleted = db.search("sailing", schema="notes", top_k=10, include_deleted=True)
        assert len(with_deleted) == 5


def test_emptied_text_drops_the_vector(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema({**NOTES, "required": ["key"]})
        row = db.insert("notes", {"key": "k", "body": "something to find"})
        db.insert("notes", {"key": "k"})  # upsert: no embedded text any more
        assert db.search("something to find", schema="notes") == []
        db.update(row["id"], {"body": "found again"})
        assert [e["key"] for e, _ in db.search("found again", schema="notes")] == ["k"]


def test_changed_default_provider_is_a_clear_error_until_rebuild(tmp_path: Path, openai_server: FakeOpenAI,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(n) for n in range(3)])
    monkeypatch.setenv("P8_DEFAULT_EMBEDDING", SPEC)
    with Database(tmp_path / "db") as db:
        for call in (lambda: db.search("x", schema="notes"), lambda: db.insert("notes", note(9))):
            with pytest.raises(EmbeddingError) as err:
                call()
            message = str(err.value)
            assert "local:all-MiniLM-L6-v2 (384-d)" in message and SPEC in message
            assert "rem index rebuild notes" in message
        assert db.rebuild_index("notes") == 3
        assert db._vectors.count("notes", "local:all-MiniLM-L6-v2") == 0
        db.insert("notes", note(9))
        hits = db.search("Note 9\n\nbody text number 9", schema="notes", top_k=1)
        assert hits[0][0]["key"] == "n9" and hits[0][1] > 0.999  # the fake server's exact vector


def test_alt_embedding_and_include_embeddings(tmp_path: Path, openai_server: FakeOpenAI,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_ALT_EMBEDDING", SPEC)
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        row = db.insert("notes", note(1, "Glaciers carve U-shaped valleys."))
        plain = db.get(row["id"])
        assert "embedding" not in plain and "embedding_alt" not in plain
        full = db.get(row["id"], include_embeddings=True)
        assert len(full["embedding"]) == 384 and len(full["embedding_alt"]) == 1536
        assert openai_server.requests == [["Note 1\n\nGlaciers carve U-shaped valleys."]]
        db.delete(row["id"], hard=True)
        assert db._vectors.count("notes", SPEC) == 0 and db._vectors.count("notes", "local:all-MiniLM-L6-v2") == 0


def test_dropping_a_table_forgets_its_vectors(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(n, f"text {n}") for n in range(3)])
        db.search("text", schema="notes")
        assert db.remove_schema("notes") == 3
        assert not list((tmp_path / "db" / "indexes").rglob("notes__*"))
        db.register_schema(NOTES)
        assert db.search("text", schema="notes") == []
        db.insert("notes", note(7, "fresh start"))
        assert [e["key"] for e, _ in db.search("fresh start", schema="notes")] == ["n7"]
