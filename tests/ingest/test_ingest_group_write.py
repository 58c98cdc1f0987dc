"""``write_group``: upserts into several tables and hard deletes in one atomic batch (the primitive behind
"a changed file replaces its chunks atomically")."""

from __future__ import annotations

import uuid

import pytest

from rem_db import Database, NotFoundError, ValidationError
from rem_db.entities.group import write_group
from rem_db.entities.ids import entity_id

DOC_URI = "file:///tmp/report.md"


def chunk(n: int, text: str | None = None) -> dict:
    return {"uri": f"{DOC_URI}#chunk-{n:04d}", "chunk_ordinal": n, "content": text or f"chunk number {n} text",
            "document_id": str(entity_id("documents", {"uri": DOC_URI}))}


def chunk_id(n: int) -> uuid.UUID:
    return entity_id("resources", chunk(n), "uri")


def doc(count: int) -> dict:
    return {"name": "report.md", "uri": DOC_URI, "chunk_count": count,
            "edges": [{"dst": str(chunk_id(n)), "rel_type": "has_chunk"} for n in range(count)]}


def test_document_and_chunks_of_another_table_in_one_write(db: Database) -> None:
    chunks, docs = write_group(db._engine, [("resources", [chunk(0), chunk(1)]), ("documents", [doc(2)])])
    assert [c["id"] for c in chunks] == [str(chunk_id(0)), str(chunk_id(1))]
    edges = db.edges(docs[0]["id"], "out", "has_chunk")
    assert sorted(e["dst"] for e in edges) == sorted(str(chunk_id(n)) for n in range(2))
    assert [e["src"] for e in db.edges(str(chunk_id(1)), "in")] == [docs[0]["id"]]
    hits = db.search("chunk number 1", schema="resources", top_k=2)
    assert {e["id"] for e, _ in hits} == {str(chunk_id(0)), str(chunk_id(1))}


def test_replacing_chunks_removes_the_old_ones_their_vectors_and_edges(db: Database) -> None:
    db.register_schema({"title": "notes", "type": "object", "description": "Notes pointing at chunks.",
                        "properties": {"name": {"type": "string"}}, "key_field": "name"})
    write_group(db._engine, [("resources", [chunk(n) for n in range(4)]), ("documents", [doc(4)])])
    note = db.insert("notes", {"name": "see chunk 3", "edges": [{"dst": str(chunk_id(3)), "rel_type": "cites"}]})
    stale = [chunk_id(2).bytes, chunk_id(3).bytes]
    write_group(db._engine, [("resources", [chunk(0, "rewritten first chunk"), chunk(1)]), ("documents", [doc(2)])],
                stale)
    for n in (2, 3):
        with pytest.raises(NotFoundError):
            db.get(chunk_id(n))
    document = db.lookup(DOC_URI)[0]
    assert document["chunk_count"] == 2
    assert sorted(e["dst"] for e in db.edges(document["id"])) == sorted(str(chunk_id(n)) for n in range(2))
    assert db.get(note["id"])["edges"] == []  # an edge from outside the group to a removed chunk is dropped too
    assert db.edges(note["id"]) == []
    hits = {e["id"] for e, _ in db.search("chunk number 3 text", schema="resources", top_k=10)}
    assert hits == {str(chunk_id(0)), str(chunk_id(1))}  # the removed chunks' vectors are gone
    assert db.get(chunk_id(0))["content"] == "rewritten first chunk"
    assert db.count("resources") == 2


def test_an_invalid_row_writes_nothing(db: Database) -> None:
    write_group(db._engine, [("resources", [chunk(0), chunk(1)]), ("documents", [doc(2)])])
    bad = {**chunk(2), "chunk_ordinal": "two"}
    with pytest.raises(ValidationError, match="chunk_ordinal"):
        write_group(db._engine, [("resources", [chunk(0, "new text"), bad]), ("documents", [doc(3)])],
                    [chunk_id(1).bytes])
    assert db.get(chunk_id(0))["content"] == "chunk number 0 text"
    assert db.get(chunk_id(1))["chunk_ordinal"] == 1
    assert db.lookup(DOC_URI)[0]["chunk_count"] == 2


def test_writing_and_removing_the_same_entity_or_an_edge_to_a_removed_one_is_refused(db: Database) -> None:
    write_group(db._engine, [("resources", [chunk(0), chunk(1)]), ("documents", [doc(2)])])
    with pytest.raises(ValidationError, match="both written and removed"):
        write_group(db._engine, [("resources", [chunk(0)])], [chunk_id(0).bytes])
    with pytest.raises(ValidationError, match="removed by the same group write"):
        write_group(db._engine, [("documents", [doc(2)])], [chunk_id(1).bytes])
    assert db.get(chunk_id(1))["chunk_ordinal"] == 1
