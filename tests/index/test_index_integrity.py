"""Damaged vector index files (truncated, deleted, random bytes, bit flips, an older file set put back) never
crash the process and never give a wrong answer: the files are checked against their manifest of digests before
hnswlib reads them, and an index that fails is rebuilt from the stored vectors while searches are answered
exactly. The trials run in a child process, so a crash shows as its exit status instead of killing pytest.

``make test-long`` runs the full-size campaign (figures in bench/RESULTS.md)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core_helpers import kill_after_acks
from rem_db import Database

NOTES = {
    "title": "notes", "type": "object", "description": "Short notes, embedded for search.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}},
    "required": ["key", "body"], "key_field": "key", "embedding_fields": ["body"],
}
SUBJECTS = ["volcano", "bread", "chess", "honey", "train", "glacier", "violin", "orchard", "comet", "harbour",
            "lantern", "desert", "falcon", "quarry", "meadow", "reef", "tundra", "canyon", "marble", "saffron"]
VERBS = ["measured", "painted", "repaired", "counted", "described", "photographed", "mapped", "sold"]


def note(n: int) -> dict[str, str]:
    a, b, v = SUBJECTS[n % 20], SUBJECTS[(n * 7 + 3) % 20], VERBS[n % 8]
    return {"key": f"n{n}", "body": f"Note {n}: the {a} near the {b} was {v} {n % 13 + 2} times in year {1900 + n}."}


def build(path: Path, rows: int) -> Path:
    """A database of ``rows`` notes saved in two steps, with the first step's index files kept in
    ``{path}.older`` (an older, internally consistent file set for the 'stale' damage)."""
    with Database(path) as db:
        db.register_schema(NOTES)
        db.insert_batch("notes", [note(n) for n in range(rows // 2)])
    shutil.copytree(path / "indexes", path.with_name(path.name + ".older"))
    with Database(path) as db:
        db.insert_batch("notes", [note(n) for n in range(rows // 2, rows)])
    return path


# the child: for each trial, copy the pristine database, damage its index files, open it, check answers
TRIALS = textwrap.dedent("""
    import os, random, shutil, sys
    from pathlib import Path
    from rem_db import Database

    pristine, work, rows, first, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), \\
        int(sys.argv[4]), int(sys.argv[5])
    older = pristine.with_name(pristine.name + ".older")
    KINDS = ["truncate", "delete", "random_bytes", "bit_flip", "stale"]

    def damage(db: Path, rng: random.Random) -> str:
        files = sorted(p for p in (db / "indexes").rglob("*") if p.is_file())
        kind = KINDS[rng.randrange(len(KINDS))]
        target = files[rng.randrange(len(files))]
        if kind == "stale":
            for p in (older).rglob("*"):
                if p.is_file():
                    shutil.copy(p, db / "indexes" / p.relative_to(older))
            return kind + ":all"
        data = bytearray(target.read_bytes())
        if kind == "truncate":
            target.write_bytes(data[:rng.randrange(max(1, len(data)))])
        elif kind == "delete":
            target.unlink()
        elif kind == "random_bytes" and data:
            for _ in range(rng.randint(1, 16)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            target.write_bytes(bytes(data))
        elif kind == "bit_flip" and data:
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
            target.write_bytes(bytes(data))
        return f"{kind}:{target.name}"

    def note(n):
        SUBJECTS = %(subjects)r
        VERBS = %(verbs)r
        a, b, v = SUBJECTS[n %% 20], SUBJECTS[(n * 7 + 3) %% 20], VERBS[n %% 8]
        return f"Note {n}: the {a} near the {b} was {v} {n %% 13 + 2} times in year {1900 + n}."

    for trial in range(first, first + count):
        rng = random.Random(trial)
        db_path = work / f"t{trial}"
        shutil.copytree(pristine, db_path)
        what = damage(db_path, rng)
        with Database(db_path) as db:
            wrong = 0
            for n in rng.sample(range(rows), 8):
                hits = db.search(note(n), schema="notes", top_k=3)
                wrong += not hits or hits[0][0]["key"] != f"n{n}"
            found = len(db.search("note", schema="notes", top_k=10_000))
        print(trial, what, wrong, found, flush=True)
        shutil.rmtree(db_path)
""") % {"subjects": SUBJECTS, "verbs": VERBS}


def run_trials(tmp_path: Path, pristine: Path, rows: int, first: int, count: int) -> list[tuple[str, int, int]]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", TRIALS, str(pristine), str(work), str(rows), str(first),
                           str(count)], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, f"the process died (status {done.returncode}): {done.stderr[-2000:]}"
    results = [line.split() for line in done.stdout.splitlines()]
    assert len(results) == count
    return [(what, int(wrong), int(found)) for _, what, wrong, found in results]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("pristine") / "db", 240)


def test_damaged_index_files_never_crash_or_answer_wrongly(tmp_path: Path, pristine: Path) -> None:
    results = run_trials(tmp_path, pristine, 240, first=0, count=20)
    assert {what.split(":")[0] for what, _, _ in results} == {"truncate", "delete", "random_bytes", "bit_flip",
                                                             "stale"}
    assert [r for r in results if r[1] or r[2] != 240] == []


def test_a_damaged_index_is_logged_rebuilt_and_saved_with_a_new_manifest(tmp_path: Path, pristine: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    db_path = tmp_path / "db"
    shutil.copytree(pristine, db_path)
    hnsw = next((db_path / "indexes" / "default").glob("notes__*.graph"))
    data = bytearray(hnsw.read_bytes())
    data[len(data) // 2] ^= 0x10  # one bit inside the graph: its own checks may not see it
    hnsw.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(db_path) as db:
        assert db.search(note(17)["body"], schema="notes", top_k=1)[0][0]["key"] == "n17"
    assert "does not match its checksum" in caplog.text and "rebuilding" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(db_path) as db:
        assert db.search(note(201)["body"], schema="notes", top_k=1)[0][0]["key"] == "n201"
    assert "rebuilding" not in caplog.text  # the rebuilt index was saved with a manifest that matches


def test_an_index_file_set_from_another_database_is_not_trusted(tmp_path: Path, pristine: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Consistent files (their own manifest matches) copied from another database with the same table are
    rejected by the checksums recorded in this database."""
    other = build(tmp_path / "other", 40)
    db_path = tmp_path / "db"
    shutil.copytree(pristine, db_path)
    shutil.rmtree(db_path / "indexes")
    shutil.copytree(other / "indexes", db_path / "indexes")
    with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(db_path) as db:
        assert db.search(note(150)["body"], schema="notes", top_k=1)[0][0]["key"] == "n150"
        assert len(db.search("note", schema="notes", top_k=10_000)) == 240
    assert "checksums recorded in the database" in caplog.text


@pytest.mark.long
def test_index_corruption_campaign(tmp_path: Path) -> None:
    """300 damaged copies of a 2,000-vector database: 0 crashes, 0 wrong answers (bench/RESULTS.md)."""
    pristine_db = build(tmp_path / "pristine", 2000)
    results = run_trials(tmp_path, pristine_db, 2000, first=1000, count=300)
    assert [r for r in results if r[1] or r[2] != 2000] == []


WAL_OFF_CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    db.register_schema(%(schema)r)
    db.insert_batch("notes", [{"key": f"k{i}", "body": f"original text {i} about the old harbour"} for i in range(20)])
    db.wait_idle()  # one saved index, so the reopen finds files that are behind
    print("ready", flush=True)
    batch = 0
    while True:
        db.insert_batch("notes", [{"key": f"b{batch}-{i}", "body": f"batch {batch} item {i}: a new comet over "
                                   f"the glacier, seen {i + 2} times"} for i in range(10)])
        db.upsert("notes", {"key": f"k{batch %% 20}", "body": f"rewritten {batch}: violin lessons in the orchard"})
        print(batch, flush=True)
        batch += 1
""") % {"schema": NOTES}


@pytest.mark.parametrize("wal", ["false", "true"])
def test_the_vector_index_catches_up_after_kill_with_or_without_the_wal(tmp_path: Path, wal: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "db"
    monkeypatch.setenv("P8_WAL_ENABLED", wal)
    acked = kill_after_acks(WAL_OFF_CHILD, [str(path)], 5, timeout=120)
    with Database(path) as db:
        for batch in acked:
            for i in (0, 9):
                hits = db.search(f"batch {batch} item {i}: a new comet over the glacier, seen {i + 2} times",
                                 schema="notes", top_k=1)
                assert hits[0][0]["key"] == f"b{batch}-{i}", (batch, i)
            hits = db.search(f"rewritten {batch}: violin lessons in the orchard", schema="notes", top_k=1)
            assert hits[0][0]["key"] == f"k{batch % 20}" and hits[0][1] > 0.99, (batch, hits[0][1])
        old = db.search(f"original text {acked[-1] % 20} about the old harbour", schema="notes", top_k=1)
        assert old[0][0]["key"] != f"k{acked[-1] % 20}" or old[0][1] < 0.99  # its old vector is gone
