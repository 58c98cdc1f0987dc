"""The BM25 postings behind hybrid search: tokenising, and postings that follow every write."""

from __future__ import annotations

import uuid
from pathlib import Path

from rem_db import Database
from rem_db.index.bm25 import stem, tokens

NOTES = {"title": "notes", "description": "Notes.", "type": "object",
         "properties": {"key": {"type": "string"}, "body": {"type": "string"}},
         "embedding_fields": ["body"]}


def test_tokens_drop_stopwords_and_stem_lightly() -> None:
    assert tokens("Why do the cyclists ride in each other's slipstream?") == ["cyclist", "ride", "slipstream"]
    assert [stem(w) for w in ("cyclists", "batteries", "glasses", "erupting", "erupted", "bus", "gas")] == [
        "cyclist", "battery", "glass", "erupt", "erupt", "bus", "gas"]
    # an identifier counts by its parts and as a whole (exact model numbers match exactly)
    assert tokens("Model XJ-9000, 2025 edition") == ["model", "xj", "9000", "xj-9000", "2025", "edition"]


def test_postings_follow_inserts_updates_and_deletes(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        a = db.insert("notes", {"key": "a", "body": "The XJ-9000 pump needs a gasket."})
        db.insert("notes", {"key": "b", "body": "Gaskets wear out in cold weather."})
        fulltext = db._embedder.fulltext

        def found(word: str) -> list[str]:
            return [db.get(str(uuid.UUID(bytes=i)))["key"] for i, _ in fulltext.search("notes", word, 10)]

        assert found("xj") == ["a"] and sorted(found("gaskets")) == ["a", "b"]
        assert fulltext.stats("notes")["docs"] == 2
        db.update(a["id"], {"body": "Replaced by the model ZZ-1."})
        assert found("xj") == [] and found("zz") == ["a"]
        db.delete(a["id"], hard=True)
        assert found("zz") == [] and fulltext.stats("notes")["docs"] == 1
    with Database(tmp_path / "db") as db:  # totals persist
        assert db._embedder.fulltext.stats("notes")["docs"] == 1
