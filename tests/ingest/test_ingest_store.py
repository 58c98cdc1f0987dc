"""What ``Database.ingest`` stores: one ``documents`` row per file, chunks with deterministic ids and
``has_chunk`` edges, idempotent re-ingest, atomic replacement of a changed file's chunks (no orphan chunks,
vectors or edges), options on documents and chunks, other chunk tables, streamed large files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ingest_helpers import all_chunk_ids, assert_consistent, chunks_of, vector_hits

from rem_db import Database, IngestError, NotFoundError, ReadOnlyError
from rem_db.entities.ids import entity_id
from rem_db.ingest import ChunkSettings, IngestOptions, Ingestor
from rem_db.schema.templates import template_schema

SECTION = ("## {title}\n\n{title} paragraph one explains the {topic} in plain words, with enough detail "
           "to fill a few dozen tokens of text about {topic}.\n\nA second paragraph on {topic} follows.\n\n")


def markdown(path: Path, topics: list[str], heading: str = "Field guide") -> Path:
    body = "".join(SECTION.format(title=t.title(), topic=t) for t in topics)
    path.write_text(f"# {heading}\n\n{body}", encoding="utf-8")
    return path


def test_a_document_row_chunks_edges_and_deterministic_ids(db: Database, tmp_path: Path) -> None:
    path = markdown(tmp_path / "guide.md", ["ferns", "cacti"])
    report = db.ingest(path, category="plants", tags=["garden", "care"], metadata={"source": "manual"})
    [result] = report.files
    assert result.status == "added" and result.content_type == "text/markdown"
    doc = db.get(result.document_id)
    uri = path.resolve().as_uri()
    assert doc["uri"] == uri and uri.startswith("file:///")
    assert result.document_id == str(entity_id("documents", {"uri": uri}))
    assert doc["name"] == "guide.md" and doc["file_size"] == path.stat().st_size
    assert doc["file_hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc["content_type"] == "text/markdown" and doc["category"] == "plants" and doc["tags"] == ["garden", "care"]
    assert doc["metadata"]["source"] == "manual" and doc["metadata"]["ingest"]["chunk_tokens"] == 256
    chunks = assert_consistent(db, result.document_id)
    assert doc["chunk_count"] == len(chunks) == result.chunks == 2
    for chunk in chunks:
        assert chunk["id"] == str(entity_id("resources", {"uri": chunk["uri"],
                                                          "chunk_ordinal": chunk["chunk_ordinal"]}))
        assert chunk["document_id"] == result.document_id and chunk["content_type"] == "text/markdown"
        assert chunk["category"] == "plants" and chunk["tags"] == ["garden", "care"]
        assert chunk["metadata"]["source"] == "manual"
        assert chunk["metadata"]["page_start"] is None and chunk["metadata"]["tokens"] <= 256
    assert [c["metadata"]["heading_path"] for c in chunks] == [["Field guide", "Ferns"], ["Field guide", "Cacti"]]
    assert chunks[0]["content"].startswith("Field guide\n\nFerns\n\nFerns paragraph one")  # title kept with it
    assert db.lookup("guide.md")[0]["id"] == result.document_id
    hits = db.search("which plant is described as a cactus?", schema="resources", top_k=1)
    assert hits[0][0]["metadata"]["heading_path"] == ["Field guide", "Cacti"]


def test_re_ingesting_an_unchanged_file_is_a_no_op(db: Database, tmp_path: Path) -> None:
    path = markdown(tmp_path / "guide.md", ["ferns"])
    first = db.ingest(path)
    before = {r["id"]: r["modified_at"] for r in db.rows("resources")}
    seq = db.stats()["wal_seq"]
    again = db.ingest(path)
    assert [f.status for f in again.files] == ["unchanged"]
    assert again.files[0].chunks == first.files[0].chunks and again.chunks == 0
    assert db.stats()["wal_seq"] == seq  # nothing written at all
    assert {r["id"]: r["modified_at"] for r in db.rows("resources")} == before
    # other options are another ingest: the rows change (texts are the same, so nothing is re-embedded)
    tagged = db.ingest(path, tags=["new"])
    assert tagged.files[0].status == "updated"
    assert all(c["tags"] == ["new"] for c in chunks_of(db, first.files[0].document_id))


def test_a_changed_file_replaces_its_chunks_leaving_no_orphans(db: Database, tmp_path: Path) -> None:
    path = markdown(tmp_path / "guide.md", ["ferns", "cacti", "orchids", "tulips"])
    old = db.ingest(path).files[0]
    old_ids = {c["id"] for c in chunks_of(db, old.document_id)}
    assert len(old_ids) == 4 and vector_hits(db, "tulips paragraph") != []
    markdown(path, ["ferns", "bonsai"], heading="Field guide")  # two sections gone, one new
    new = db.ingest(path).files[0]
    assert new.status == "updated" and new.document_id == old.document_id
    chunks = assert_consistent(db, new.document_id)
    assert len(chunks) == 2 == db.get(new.document_id)["chunk_count"]
    assert all_chunk_ids(db) == {c["id"] for c in chunks}  # no orphan rows (soft-deleted ones included)
    for gone in old_ids - {c["id"] for c in chunks}:
        with pytest.raises(NotFoundError):
            db.get(gone, include_deleted=True)
    reachable = set(vector_hits(db, "tulips and orchids paragraph"))
    assert reachable == {c["id"] for c in chunks}  # the vector index holds the live chunks only
    assert "Bonsai" in chunks[1]["content"] and chunks[1]["metadata"]["heading_path"] == ["Field guide", "Bonsai"]
    # growing again reuses the ids of the ordinals it had
    markdown(path, ["ferns", "bonsai", "maples", "roses"])
    grown = assert_consistent(db, db.ingest(path).files[0].document_id)
    assert len(grown) == 4 and {c["id"] for c in chunks} < {c["id"] for c in grown}


def test_a_soft_deleted_document_is_ingested_again(db: Database, tmp_path: Path) -> None:
    path = markdown(tmp_path / "guide.md", ["ferns"])
    result = db.ingest(path).files[0]
    db.delete(result.document_id)
    again = db.ingest(path).files[0]
    assert again.status == "updated"
    assert db.get(result.document_id)["deleted_at"] is None


def test_chunks_go_to_another_table_given_by_schema(db: Database, tmp_path: Path) -> None:
    db.register_schema(template_schema("resources", "notes"))
    path = markdown(tmp_path / "guide.md", ["ferns"])
    result = db.ingest(path, "notes").files[0]
    assert result.table == "notes"
    assert_consistent(db, result.document_id, "notes")
    assert db.count("resources") == 0 and db.count("notes") == 1
    # moving the document to another table takes its chunks out of the old one
    moved = db.ingest(path).files[0]
    assert moved.status == "updated" and db.count("notes") == 0
    assert_consistent(db, moved.document_id)


def test_a_table_that_cannot_hold_chunks_and_other_usage_errors(db: Database, tmp_path: Path) -> None:
    db.register_schema({"title": "plain", "type": "object", "description": "No chunk fields.",
                        "properties": {"name": {"type": "string"}}})
    path = markdown(tmp_path / "guide.md", ["ferns"])
    with pytest.raises(IngestError, match="table 'plain' cannot hold document chunks: it has no content, uri"):
        db.ingest(path, "plain")
    with pytest.raises(NotFoundError, match="nope"):
        db.ingest(path, "nope")
    with pytest.raises(IngestError, match="no such file or directory"):
        db.ingest(tmp_path / "missing.md")
    assert db.count("documents") == 0


def test_read_only_database_refuses_ingest(db_path: Path, tmp_path: Path) -> None:
    Database(db_path).close()
    with Database(db_path, read_only=True) as db, pytest.raises(ReadOnlyError):
        db.ingest(markdown(tmp_path / "guide.md", ["ferns"]))


def test_large_files_are_streamed_in_batches_with_the_document_written_last(db: Database, tmp_path: Path) -> None:
    path = markdown(tmp_path / "big.md", [f"topic{n}" for n in range(7)])
    options = IngestOptions(batch_chunks=3, chunking=ChunkSettings(128, 16))
    result = Ingestor(db._core.ingest_sources(), options).run(path).files[0]
    assert result.status == "added" and result.chunks >= 7  # three batches: 3 + 3, then the rest with the document
    assert_consistent(db, result.document_id)
    markdown(path, ["topic0", "topic1"])
    shrunk = Ingestor(db._core.ingest_sources(), options).run(path).files[0]
    assert shrunk.status == "updated" and shrunk.chunks == 2
    assert all_chunk_ids(db) == {c["id"] for c in assert_consistent(db, shrunk.document_id)}


def test_a_streamed_file_that_fails_half_way_leaves_nothing_behind(db: Database, tmp_path: Path) -> None:
    schema = template_schema("resources", "short_notes")
    schema["properties"]["content"] = {"type": "string", "pattern": "^[^!]*$"}  # no exclamation marks
    db.register_schema(schema)
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\n" + "".join(f"Note {n} is short.\n\n" for n in range(40))
                    + "The last one shouts!\n", encoding="utf-8")
    options = IngestOptions(schema="short_notes", batch_chunks=2, chunking=ChunkSettings(64, 0))
    report = Ingestor(db._core.ingest_sources(), options).run(path.parent)
    [result] = report.files
    assert result.status == "failed" and "short_notes" in result.reason and "content" in result.reason
    assert db.count("short_notes") == 0 and db.count("documents") == 0  # the first batches were taken back


def test_async_database_ingests_without_blocking_the_loop(db_path: Path, tmp_path: Path) -> None:
    import asyncio

    from rem_db import AsyncDatabase

    async def run() -> tuple[str, int]:
        async with AsyncDatabase(db_path) as db:
            report = await db.ingest(markdown(tmp_path / "guide.md", ["ferns"]))
            return report.files[0].status, await db.count("resources")

    assert asyncio.run(run()) == ("added", 1)
