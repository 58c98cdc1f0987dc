"""A large document becomes visible at once, with its chunks: kill -9 during a multi-part ingest leaves no
chunk visible without its document (search, hybrid search, SQL, count, lookup, get, export), the leftovers
are deleted on the next open or ingest, a killed re-ingest leaves the previous version whole, and readers
during an ingest see the stored version only.

The child processes and the tests embed with a hashing provider (tests/ingest/hashing_provider.py): no model
to load, so a child is killed inside the ingest within a second or so."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hashing_provider import DELAY_VARIABLE, SPEC, embedded, register, unregister
from ingest_helpers import assert_consistent, chunks_of

from core_helpers import kill_after_acks
from rem_db import Database, IngestError
from rem_db.entities.hidden import read_parts
from rem_db.entities.ids import entity_id
from rem_db.ingest import ChunkSettings, IngestOptions, Ingestor
from rem_db.storage.keyspace import prefix_range

HERE = Path(__file__).resolve().parent
PARTS = 4  # chunks per part: a 24-section file is written in 6 parts plus the document
OPTIONS = {"batch_chunks": PARTS, "chunking": ChunkSettings(64, 0)}
ROUNDS = 50  # kills in the long campaign

CHILD = textwrap.dedent("""
    import sys
    import time
    sys.path.insert(0, sys.argv[4])
    import hashing_provider
    from rem_db import Database, IngestError
    from rem_db.ingest import ChunkSettings, IngestOptions, Ingestor

    hashing_provider.register()
    db = Database(sys.argv[1])
    print("ready", flush=True)
    written = [0]

    def progress(state):  # after every part committed
        if state.chunks_written > written[0] and len(sys.argv) == 5:
            written[0] = state.chunks_written
            print(written[0], flush=True)

    if len(sys.argv) > 5:  # hold the removal of the replaced chunks; say when the document has committed
        import threading
        db._engine.hidden.purging.acquire()
        before = db.get(sys.argv[5])["file_hash"]

        def watch():
            while db.get(sys.argv[5])["file_hash"] == before:
                time.sleep(0.01)
            print(-1, flush=True)

        threading.Thread(target=watch, daemon=True).start()
    options = IngestOptions(batch_chunks=int(sys.argv[3]), chunking=ChunkSettings(64, 0))
    Ingestor(db._core.ingest_sources(), options, progress).run(sys.argv[2])
    print("done", file=sys.stderr, flush=True)
    time.sleep(60)  # finished before the kill: the test fails on its own check
""")


@pytest.fixture(autouse=True)
def hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("P8_DEFAULT_EMBEDDING", SPEC)
    register()
    try:
        yield
    finally:
        unregister()


def notes(path: Path, version: str, sections: int = 24, word: str = "") -> Path:
    """A Markdown file of ``sections`` sections (one chunk each at 64 tokens), its text naming ``version``;
    ``word`` is added to every section (a word only this version has)."""
    body = "".join(f"## Section {n}\n\nThe {version} note {n} records the pump station reading {n * 7} "
                   f"and the valve setting {n % 5} {word}.\n\n" for n in range(sections))
    path.write_text(f"# Notes {version}\n\n{body}", encoding="utf-8")
    return path


def ingest(db: Database, path: Path, progress: Any = None, **options: Any) -> Any:
    return Ingestor(db._core.ingest_sources(), IngestOptions(**{**OPTIONS, **options}), progress).run(path).files[0]


def kill_during_ingest(db_path: Path, path: Path, parts: int, after_commit_of: str | None = None) -> list[int]:
    """Run an ingest of ``path`` in a child and kill it once ``parts`` parts were committed (it is then
    embedding the next one, slowly); or, with ``after_commit_of`` (a document id), once that document's
    new version has committed, before the chunks it replaced are deleted."""
    env = {"P8_DEFAULT_EMBEDDING": SPEC, DELAY_VARIABLE: "0.3" if after_commit_of is None else "0"}
    args = [str(db_path), str(path), str(PARTS), str(HERE), *([after_commit_of] if after_commit_of else [])]
    if after_commit_of is not None:
        return kill_after_acks(CHILD, args, 1, env=env, timeout=60)
    return kill_after_acks(CHILD, args, parts, env=env, timeout=60)


def stored(db: Database, table: str = "resources") -> dict[str, int]:
    """What the store holds for a table, read raw (hidden rows included): rows, vectors, postings, edge
    keys, and the hidden-row records."""
    store, ks = db._store, db._keyspace
    rows = sum(1 for value in store.values("entities", ks.prefix, ks.end)
               if orjson.loads(value)["entity_type"] == table)
    vectors = store.count("embeddings", *prefix_range(ks.vector_prefix(table, SPEC)))
    postings = store.count("fulltext", *prefix_range(ks.fulltext_table(table)))
    edges = store.count("edges", ks.prefix, ks.end)
    return {"rows": rows, "vectors": vectors, "postings": postings, "edges": edges,
            "hidden": len(list(read_parts(store, ks)))}


def stored_ids(db: Database, table: str = "resources") -> list[str]:
    """Ids of a table's rows, read raw (hidden rows included)."""
    values = (orjson.loads(v) for v in db._store.values("entities", db._keyspace.prefix, db._keyspace.end))
    return [row["id"] for row in values if row["entity_type"] == table]


def visible(db: Database, path: Path, word: str) -> dict[str, Any]:
    """Everything a reader sees of the chunk table and of the document of ``path``."""
    doc_id = str(entity_id("documents", {"uri": path.as_uri()}))
    rows = db.query("SELECT id, content FROM resources")
    first_uri = f"{path.as_uri()}#chunk-0003"
    hits = db.search(f"{word} pump station reading", schema="resources", top_k=100)
    hybrid = db.search(f"{word} pump station reading", schema="resources", top_k=100, hybrid=True)
    return {
        "document": db.get_batch([doc_id])[0] is not None,
        "count": db.count("resources"),
        "count_all": db.count("resources", include_deleted=True),
        "sql": sorted(r["content"] for r in rows),
        "sql_count": db.query("SELECT COUNT(*) AS n FROM resources")[0]["n"],
        "by_document": len(db.query("SELECT id FROM resources WHERE document_id = ?", [doc_id])),
        "rows": sorted(r["id"] for r in db.rows("resources")),
        "search": sorted(e["id"] for e, _ in hits),
        "hybrid": sorted(e["id"] for e, _ in hybrid),
        "lookup": [e["id"] for e in db.lookup(first_uri)],
        "get": [r["id"] for r in db.get_batch([r["id"] for r in rows]) if r is not None],
    }


def exported(db: Database, tmp_path: Path) -> int:
    out = tmp_path / f"export-{os.getpid()}-{len(list(tmp_path.iterdir()))}.jsonl"
    return int(db.export("resources", out)["rows"])


@pytest.mark.parametrize("parts", [1, 3, 5])
def test_a_killed_first_ingest_shows_nothing_and_is_removed_on_the_next_open(tmp_path: Path, parts: int) -> None:
    db_path, path = tmp_path / "db", notes(tmp_path / "notes.md", "first", word="zebra")
    Database(db_path).close()
    acked = kill_during_ingest(db_path, path, parts)
    assert acked[-1] >= parts * PARTS

    with Database(db_path, read_only=True) as db:  # nothing is removed by a read-only open
        assert stored(db)["rows"] >= parts * PARTS and stored(db)["hidden"] >= parts
        seen = visible(db, path, "zebra")
        assert seen == {"document": False, "count": 0, "count_all": 0, "sql": [], "sql_count": 0, "by_document": 0,
                        "rows": [], "search": [], "hybrid": [], "lookup": [], "get": []}
        assert exported(db, tmp_path) == 0
        assert db.get_batch(stored_ids(db)) == [None] * stored(db)["rows"]

    with Database(db_path) as db:
        assert visible(db, path, "zebra")["search"] == []
        db.wait_idle()  # the open's background purge
        assert stored(db) == {"rows": 0, "vectors": 0, "postings": 0, "edges": 0, "hidden": 0}
        result = ingest(db, path)
        assert result.status == "added"
        chunks = assert_consistent(db, result.document_id)
        assert visible(db, path, "zebra")["count"] == len(chunks) == stored(db)["rows"]


@pytest.mark.parametrize("parts", [1, 4])
def test_a_killed_re_ingest_leaves_the_old_version_whole(tmp_path: Path, parts: int) -> None:
    db_path, path = tmp_path / "db", notes(tmp_path / "notes.md", "old", sections=20)
    with Database(db_path) as db:
        old = ingest(db, path)
        old_chunks = assert_consistent(db, old.document_id)
        before = visible(db, path, "zebra")
    notes(path, "new", sections=28, word="zebra")  # every chunk changes, and there are more
    kill_during_ingest(db_path, path, parts)

    with Database(db_path, read_only=True) as db:
        assert stored(db)["rows"] > len(old_chunks)  # the new chunks are there, hidden
        assert visible(db, path, "zebra") == before
        assert assert_consistent(db, old.document_id) == old_chunks
        assert exported(db, tmp_path) == len(old_chunks)

    with Database(db_path) as db:
        new = ingest(db, path)  # the next ingest removes what the killed one left, then replaces the version
        assert new.status == "updated" and new.chunks == 28
        chunks = assert_consistent(db, new.document_id)
        assert all("new note" in c["content"] for c in chunks)
        assert stored(db) == {"rows": 28, "vectors": 28, "postings": stored(db)["postings"], "edges": 28,
                              "hidden": 0}
        assert len(visible(db, path, "zebra")["search"]) == 28


def test_killed_after_the_document_committed_the_new_version_shows_and_the_old_chunks_go(tmp_path: Path) -> None:
    db_path, path = tmp_path / "db", notes(tmp_path / "notes.md", "old", sections=20)
    with Database(db_path) as db:
        old = ingest(db, path)
        old_ids = {c["id"] for c in assert_consistent(db, old.document_id)}
    notes(path, "new", sections=12, word="zebra")
    acked = kill_during_ingest(db_path, path, 0, after_commit_of=old.document_id)
    assert -1 in acked

    with Database(db_path, read_only=True) as db:
        chunks = assert_consistent(db, old.document_id)  # the new version, whole
        assert len(chunks) == 12 and all("new note" in c["content"] for c in chunks)
        assert not old_ids & set(visible(db, path, "zebra")["search"]) and db.count("resources") == 12
        assert stored(db)["rows"] == 32 and stored(db)["hidden"] >= 1  # the old ones wait, hidden

    with Database(db_path) as db:
        db.wait_idle()
        assert stored(db)["rows"] == 12 and stored(db)["hidden"] == 0 and stored(db)["edges"] == 12


def test_the_next_ingest_removes_what_a_killed_one_left(tmp_path: Path) -> None:
    db_path, path = tmp_path / "db", notes(tmp_path / "notes.md", "first")
    Database(db_path).close()
    kill_during_ingest(db_path, path, 2)
    other = notes(tmp_path / "other.md", "other", sections=3)
    with Database(db_path) as db:
        ingest(db, other)  # waits for (or does) the purge before writing
        assert stored(db)["hidden"] == 0 and stored(db)["rows"] == db.count("resources") == 3


def test_readers_during_an_ingest_see_the_stored_version_only(tmp_path: Path, db: Database) -> None:
    path = notes(tmp_path / "notes.md", "first", word="zebra")
    seen: list[dict[str, Any]] = []

    def watch(state: Any) -> None:  # while the file is being written (parts committed, document not yet)
        if state.chunks_written and not state.files_done:
            seen.append(visible(db, path, "zebra"))

    result = ingest(db, path, watch)
    assert len(seen) >= 5 and all(s["count"] == 0 and s["search"] == [] and not s["document"] for s in seen)
    first = visible(db, path, "zebra")
    assert first["count"] == len(assert_consistent(db, result.document_id)) == 24

    notes(path, "second", sections=30, word="zebra")
    seen.clear()
    result = ingest(db, path, watch)
    assert len(seen) >= 5 and all(s == first for s in seen)
    after = visible(db, path, "zebra")
    assert after["count"] == len(assert_consistent(db, result.document_id)) == 30
    assert stored(db)["rows"] == 30 and stored(db)["hidden"] == 0  # the first version's chunks are gone


def test_unchanged_chunks_keep_their_ids_and_changed_metadata_keeps_the_vectors(tmp_path: Path, db: Database) -> None:
    path = notes(tmp_path / "notes.md", "log", sections=16)
    first = ingest(db, path)
    ids = [c["id"] for c in assert_consistent(db, first.document_id)]
    with path.open("a", encoding="utf-8") as handle:  # appended: the earlier chunks stay as they are
        handle.write("".join(f"## Later {n}\n\nAn appended entry {n} about the pump.\n\n" for n in range(5)))
    count = embedded()
    second = ingest(db, path)
    now = [c["id"] for c in assert_consistent(db, second.document_id)]
    assert second.chunks == 21 and now[:16] == ids and embedded() - count == 5

    count = embedded()
    third = ingest(db, path, tags=["field"])  # every row changes, no text does: ids move, vectors are copied
    chunks = assert_consistent(db, third.document_id)
    assert embedded() - count == 0 and all(c["tags"] == ["field"] for c in chunks)
    assert not set(ids) & {c["id"] for c in chunks}
    hit = db.search("appended entry 3 about the pump", schema="resources", top_k=1)[0][0]
    assert "entry 3" in hit["content"]
    assert stored(db)["rows"] == 21 and stored(db)["vectors"] == 21


def test_a_re_ingest_that_fails_part_way_keeps_the_old_version(tmp_path: Path, db: Database) -> None:
    from rem_db.schema.templates import template_schema

    schema = template_schema("resources", "short_notes")
    schema["properties"]["content"] = {"type": "string", "pattern": "^[^!]*$"}  # no exclamation marks
    db.register_schema(schema)
    path = notes(tmp_path / "notes.md", "calm", sections=12)
    old = ingest(db, path, schema="short_notes")
    old_chunks = assert_consistent(db, old.document_id, "short_notes")
    notes(path, "loud", sections=16)
    path.write_text(path.read_text(encoding="utf-8") + "## End\n\nThe last one shouts!\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"short_notes row 1 .*'content'"):
        ingest(db, path, schema="short_notes")
    assert assert_consistent(db, old.document_id, "short_notes") == old_chunks
    assert chunks_of(db, old.document_id, "short_notes") == old_chunks
    assert stored(db, "short_notes")["rows"] == len(old_chunks) and stored(db)["hidden"] == 0


def test_a_large_document_moved_to_another_table_leaves_nothing_in_the_first(tmp_path: Path, db: Database) -> None:
    from rem_db.schema.templates import template_schema

    db.register_schema(template_schema("resources", "field_notes"))
    path = notes(tmp_path / "notes.md", "moved", sections=20)
    ingest(db, path)
    moved = ingest(db, path, schema="field_notes")
    assert moved.status == "updated" and len(assert_consistent(db, moved.document_id, "field_notes")) == 20
    assert db.count("resources") == 0 and stored(db)["rows"] == 0 and stored(db)["hidden"] == 0
    assert stored(db, "field_notes")["rows"] == db.count("field_notes") == 20


@pytest.mark.long
def test_repeated_kills_during_large_ingests_never_show_a_partial_document(tmp_path: Path) -> None:
    """The campaign: 50 kills at random parts of first ingests and re-ingests; after each, the visible state
    is one whole version (or none), and a writable open plus an ingest leaves nothing behind."""
    import random

    rng = random.Random(18)
    db_path, path = tmp_path / "db", tmp_path / "notes.md"
    Database(db_path).close()
    versions: dict[str, int] = {}  # committed version name -> sections
    committed: str | None = None
    for round_ in range(ROUNDS):
        name, sections = f"v{round_}", rng.randint(12, 30)
        notes(path, name, sections=sections, word=f"w{round_}")
        kill_during_ingest(db_path, path, rng.randint(1, sections // PARTS - 1))
        with Database(db_path, read_only=True) as db:
            rows = db.query("SELECT content FROM resources")
            if committed is None:
                assert rows == [] and db.count("resources") == 0
            else:
                assert len(rows) == db.count("resources") == versions[committed]
                assert all(f"The {committed} note" in r["content"] for r in rows if "note" in r["content"])
            hits = db.search(f"w{round_} pump station", schema="resources", top_k=50, hybrid=True)
            assert not any(f"w{round_}" in e["content"] for e, _ in hits)
        if rng.random() < 0.5:  # sometimes the next open finishes the version
            with Database(db_path) as db:
                result = ingest(db, path)
                assert_consistent(db, result.document_id)
                assert stored(db)["hidden"] == 0 and stored(db)["rows"] == sections
            committed, versions[name] = name, sections
    with Database(db_path) as db:
        db.wait_idle()
        assert stored(db)["hidden"] == 0
        assert stored(db)["rows"] == (versions[committed] if committed else 0)

