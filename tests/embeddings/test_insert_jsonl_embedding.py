"""``Database.insert_jsonl`` into a table with embedding fields: embedding progress per chunk, and a provider
that fails mid-load keeps its error type, with a note saying what was kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embed_helpers import openai_notes
from fake_openai import FakeOpenAI

from rem_db import Database, EmbeddingError
from rem_db.entities.stream import JsonlProgress


def note_lines(n: int) -> list[str]:
    return [json.dumps({"key": f"n{i}", "title": f"Note {i}", "body": f"body {i}"}) for i in range(1, n + 1)]


def test_embedding_progress_and_a_provider_failure_mid_load(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    embedded: list[tuple[int, int]] = []

    def progress(state: JsonlProgress) -> None:
        if state.to_embed:
            embedded.append((state.embedded, state.to_embed))
        if state.rows == 4:  # the key is revoked after the second chunk
            openai_server.api_key = "revoked"

    with Database(tmp_path / "db") as db:
        db.register_schema(openai_notes())
        with pytest.raises(EmbeddingError, match="authentication failed") as caught:
            db.insert_jsonl("onotes", note_lines(7), chunk_size=2, progress=progress)
        assert caught.value.__notes__ == ["nothing from the chunk starting at line 5 was written; "
                                          "4 rows were inserted into onotes before it"]
        assert embedded == [(2, 2), (2, 2)]
        assert db.count("onotes") == 4
        openai_server.api_key = "test-key"  # the written chunks were embedded: they are searchable
        assert sorted(e["key"] for e, _ in db.search("Note 3", schema="onotes", top_k=10)) == ["n1", "n2", "n3", "n4"]
