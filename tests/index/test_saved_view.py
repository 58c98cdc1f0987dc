"""Right after ``Database()`` a table's searches are answered exactly from its saved HNSW files, memory-mapped
(index/hnsw_file.py), while hnswlib loads the graph; the graph then replaces the stand-in, caught up from the
WAL. Real hnswlib files and real databases in tmp_path, checked against numpy's exact answers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from vector_items import ITEMS, exact, ids, stored, unit

import rem_db.index.loading as index_loading
import rem_db.index.vectors as vector_indexes
from rem_db import Database
from rem_db.index.ann import CorruptIndex
from rem_db.index.hnsw import HnswIndex
from rem_db.index.hnsw_file import HnswFile
from rem_db.index.tail import Overlaid

DIMS = 24




def saved(tmp_path: Path) -> tuple[Path, dict[bytes, np.ndarray]]:
    """An HNSW index saved by the real backend after adds, updates, removals and a reused label."""
    rng = np.random.default_rng(3)
    index = HnswIndex(DIMS)
    first = unit(rng.standard_normal((300, DIMS)))
    index.upsert(ids(300), first)
    state = dict(zip(ids(300), first, strict=True))
    moved = unit(rng.standard_normal((10, DIMS)))
    index.upsert(ids(10), moved)  # updated in place
    state.update(zip(ids(10), moved, strict=True))
    index.remove(ids(20, 50))  # labels freed ...
    for gone in ids(20, 50):
        del state[gone]
    late = unit(rng.standard_normal((5, DIMS)))
    index.upsert(ids(5, 900), late)  # ... and reused by new ids
    state.update(zip(ids(5, 900), late, strict=True))
    index.seq = 17
    base = tmp_path / "idx"
    index.save(base)
    return base, state


def test_the_saved_file_answers_what_the_index_holds(tmp_path: Path) -> None:
    base, state = saved(tmp_path)
    view = HnswFile(base, DIMS, stored(state))
    assert len(view) == len(state) and view.seq == 17
    rng = np.random.default_rng(4)
    for query in unit(rng.standard_normal((25, DIMS))):
        hits = view.search(query, 10)
        assert [i for i, _ in hits] == exact(state, query, 10)
        assert hits[0][1] == pytest.approx(float(state[hits[0][0]] @ query), abs=1e-5)
    assert view.label_of(ids(1, 50)[0]) is None and view.label_of(ids(1, 900)[0]) is not None  # removed, added
    np.testing.assert_allclose(view.vectors(ids(3)), np.vstack([state[i] for i in ids(3)]), atol=1e-6)
    allowed = view.labels_of(ids(40, 60))  # a filter over labels: only live ids among them
    hits = view.search(state[ids(1, 70)[0]], 50, allowed=allowed.__contains__)
    assert {i for i, _ in hits} == set(ids(40, 60)) & set(state)


def test_the_walk_of_a_larger_saved_graph_finds_the_nearest_live_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    mix = rng.standard_normal((12, DIMS))
    vectors = unit(rng.standard_normal((4000, 12)) @ mix + 0.3)  # neighbourhoods that mean something
    index = HnswIndex(DIMS)
    index.upsert(ids(4000), vectors)
    state = dict(zip(ids(4000), vectors, strict=True))
    index.remove(ids(400, 0))  # removed elements are walked through, never answered
    for gone in ids(400, 0):
        del state[gone]
    index.save(tmp_path / "big")
    view = HnswFile(tmp_path / "big", DIMS, stored(state))
    recalls = []
    for query in unit(rng.standard_normal((30, 12)) @ mix + 0.3):
        found = [i for i, _ in view.search(query, 10)]
        assert len(found) == 10 and set(found) <= set(state)
        recalls.append(len(set(found) & set(exact(state, query, 10))) / 10)
    assert np.mean(recalls) >= 0.95


def test_a_filtered_search_of_the_saved_file_finds_the_exact_nearest_allowed_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    vectors = unit(rng.standard_normal((3000, DIMS)))
    index = HnswIndex(DIMS)
    index.upsert(ids(3000), vectors)
    state = dict(zip(ids(3000), vectors, strict=True))
    index.save(tmp_path / "big")
    view = HnswFile(tmp_path / "big", DIMS, stored(state))
    allowed_ids = ids(3000)[::3]  # 1,000 rows: far more than are scored exactly (the rest by their codes)
    allowed = view.labels_of(allowed_ids)
    chosen = {i: state[i] for i in allowed_ids}
    for query in unit(rng.standard_normal((20, DIMS))):
        hits = view.search(query, 10, allowed=allowed.__contains__)
        assert [i for i, _ in hits] == exact(chosen, query, 10)
        np.testing.assert_allclose([s for _, s in hits], [float(chosen[i] @ query) for i, _ in hits], atol=1e-5)


def test_changes_made_while_the_saved_file_stands_in_are_searched_with_it(tmp_path: Path) -> None:
    base, state = saved(tmp_path)
    view = HnswFile.open(base, DIMS, stored(state))
    assert isinstance(view, Overlaid)
    rng = np.random.default_rng(5)
    added = unit(rng.standard_normal((40, DIMS)))
    view.upsert(ids(40, 2000), added)
    state.update(zip(ids(40, 2000), added, strict=True))
    moved = unit(rng.standard_normal((5, DIMS)))
    view.upsert(ids(5, 100), moved)
    state.update(zip(ids(5, 100), moved, strict=True))
    view.remove(ids(10, 200))
    for gone in ids(10, 200):
        del state[gone]
    assert len(view) == len(state)
    for query in unit(rng.standard_normal((25, DIMS))):
        assert [i for i, _ in view.search(query, 10)] == exact(state, query, 10)
    with pytest.raises(RuntimeError):
        view.save(tmp_path / "again")


@pytest.mark.parametrize("damage", ["truncated", "other dimension"])
def test_a_saved_file_that_does_not_fit_its_id_map_is_not_used(tmp_path: Path, damage: str) -> None:
    base, state = saved(tmp_path)
    graph = Path(str(base) + ".graph")
    if damage == "truncated":
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])
    with pytest.raises(CorruptIndex):
        HnswFile.open(base, DIMS + 1 if damage == "other dimension" else DIMS, stored(state))


def test_an_element_whose_label_is_beyond_the_id_map_is_never_answered(tmp_path: Path) -> None:
    base, state = saved(tmp_path)
    graph = Path(str(base) + ".graph")
    layout = orjson.loads(Path(str(base) + ".json").read_bytes())["graph"]
    labels_at = layout["cur_element_count"] * layout["offset_data"]  # the labels follow the links (hnsw_graph.py)
    data = bytearray(graph.read_bytes())
    label = int.from_bytes(data[labels_at:labels_at + 8], "little")  # element 0's
    owner = np.load(str(base) + ".ids.npy")[label].tobytes()
    data[labels_at:labels_at + 8] = (10**6).to_bytes(8, "little")
    graph.write_bytes(bytes(data))
    view = HnswFile(base, DIMS, stored(state))  # labels are read as searches need them
    found = [i for i, _ in view.search(state[owner], 10)] + [
        i for i, _ in view.search(state[owner], 10, allowed=lambda _: True)]
    assert found and owner not in found  # neither the walk nor a scan answers the damaged element
    with pytest.raises(CorruptIndex):  # the graph itself is never loaded from it
        HnswIndex.load(base, DIMS, stored(state))


def items(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"key": f"k{i}", "doc": f"item {i}", "group": "ab"[i % 2]} for i in range(start, start + n)]


def by_key(db: Database, query: np.ndarray, k: int = 10) -> list[str]:
    return [e["key"] for e, _ in db.search(vector=query, schema="items", top_k=k)]


def handle_of(db: Database) -> Any:
    return next(iter(db._core.indexes.handles.values()))


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(6)
    vectors = unit(rng.standard_normal((500, DIMS)))
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        db.insert_batch("items", items(500), vectors=vectors)
    return tmp_path / "db", {f"k{i}": vectors[i] for i in range(500)}


def manifest_seq(path: Path) -> int:
    beside = next((path / "indexes").rglob("*.manifest.json"))
    return int(orjson.loads(beside.read_bytes())["seq"])


def test_a_reopened_database_answers_from_its_files_then_from_the_loaded_graph(built: tuple) -> None:
    path, state = built
    queries = unit(np.random.default_rng(7).standard_normal((10, DIMS)))
    with Database(path) as db:
        first = [by_key(db, q) for q in queries]  # answered at once, whichever index answers
        db.wait_idle()
        assert type(handle_of(db).index) is HnswIndex  # the graph replaced the stand-in
        assert [by_key(db, q) for q in queries] == first == [exact(state, q, 10) for q in queries]
        assert db.stats("items")["details"]["items"]["vector_index"]["kind"] == "hnsw"


def test_writes_while_the_files_stand_in_reach_the_graph_and_its_next_save(
        built: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = built
    monkeypatch.setattr(index_loading, "LOAD_QUIET", 60.0)  # the graph waits: only closing lets it load
    monkeypatch.setattr(index_loading, "LOAD_PATIENCE", 60.0)
    rng = np.random.default_rng(8)
    added, moved = unit(rng.standard_normal((30, DIMS))), unit(rng.standard_normal((5, DIMS)))
    queries = np.vstack([added[:5], moved, unit(rng.standard_normal((5, DIMS)))])
    with Database(path) as db:
        assert by_key(db, queries[-1]) == exact(state, queries[-1], 10)
        assert handle_of(db).staged and isinstance(handle_of(db).index, Overlaid)
        db.insert_batch("items", items(30, 500), vectors=added)
        for n in range(5):
            db.insert("items", items(1, n)[0], vector=moved[n])  # k0..k4 move
        db.delete(db.lookup("k7")[0]["id"], hard=True)
        state.update({f"k{500 + n}": added[n] for n in range(30)})
        state.update({f"k{n}": moved[n] for n in range(5)})
        del state["k7"]
        assert [by_key(db, q) for q in queries] == [exact(state, q, 10) for q in queries]  # read-your-writes
        assert handle_of(db).staged
        seq = db.stats()["wal_seq"]
    assert manifest_seq(path) == seq  # closing loaded the graph, caught it up and saved it
    monkeypatch.setattr(index_loading, "LOAD_QUIET", 0.0)
    with Database(path, read_only=True) as db:
        db.wait_idle()
        assert type(handle_of(db).index) is HnswIndex
        assert [by_key(db, q) for q in queries] == [exact(state, q, 10) for q in queries]


def test_closing_while_the_files_stand_in_leaves_them_untouched(
        built: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = built
    monkeypatch.setattr(index_loading, "LOAD_QUIET", 60.0)
    monkeypatch.setattr(index_loading, "LOAD_PATIENCE", 60.0)
    files = sorted(p for p in (path / "indexes").rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    query = unit(np.random.default_rng(9).standard_normal((1, DIMS)))[0]
    with Database(path) as db:
        assert by_key(db, query) == exact(state, query, 10)
        assert handle_of(db).staged
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def test_single_writes_save_the_index_once_they_pause_or_at_wait_idle(
        built: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = built
    monkeypatch.setattr(vector_indexes, "SAVE_QUIET", 60.0)  # writes "keep coming" for a minute
    added = unit(np.random.default_rng(10).standard_normal((20, DIMS)))
    with Database(path) as db:
        db.wait_idle()
        saved_seq = manifest_seq(path)
        for n in range(20):
            db.insert("items", items(1, 600 + n)[0], vector=added[n])
        handle = handle_of(db)
        for _ in range(500):  # the worker moves them into the graph once the writes pause ...
            if not handle.pending.rows and handle.dirty:  # (rows leave the tail just before they are added)
                break
            time.sleep(0.01)
        assert handle.pending.rows == 0 and handle.dirty
        assert manifest_seq(path) == saved_seq  # ... but does not rewrite the whole file after each of them
        db.wait_idle()
        assert manifest_seq(path) == db.stats()["wal_seq"]  # wait_idle saves what was deferred
    state.update({f"k{600 + n}": added[n] for n in range(20)})
    with Database(path, read_only=True) as db:
        assert [by_key(db, q) for q in added[:5]] == [exact(state, q, 10) for q in added[:5]]
