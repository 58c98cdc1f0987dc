"""Searches right after writes see them (read-your-writes) while the HNSW graph catches up in the background:
committed vectors not in the graph yet are searched exactly and merged with the graph's results
(index/tail.py). Real databases in tmp_path and real indexes, checked against numpy's exact answers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from vector_items import ITEMS, exact, ids, unit

from rem_db import Database
from rem_db.index.exact import ExactIndex
from rem_db.index.hnsw import HnswIndex
from rem_db.index.tail import PendingTail, TailView

DIMS = 32




def test_tail_view_equals_exact_search_over_the_final_state() -> None:
    rng = np.random.default_rng(1)
    main = ExactIndex(DIMS)
    first = unit(rng.standard_normal((400, DIMS)))
    main.upsert(ids(400), first)
    state = dict(zip(ids(400), first, strict=True))
    tail = PendingTail(DIMS)
    added = unit(rng.standard_normal((300, DIMS)))
    tail.add(1, ids(300, 400), added)  # new rows
    state.update(zip(ids(300, 400), added, strict=True))
    moved = unit(rng.standard_normal((20, DIMS)))
    tail.add(2, ids(20), moved)  # updated rows of the graph
    state.update(zip(ids(20), moved, strict=True))
    tail.add(3, ids(20, 100), None)  # deleted rows of the graph
    tail.add(4, ids(5, 400), None)  # deleted rows of the tail itself
    for gone in ids(20, 100) + ids(5, 400):
        del state[gone]
    view = TailView(main, tail)
    assert len(view) == len(state)
    for query in unit(rng.standard_normal((30, DIMS))):
        assert [i for i, _ in view.search(query, 10)] == exact(state, query, 10)
    for moved_id, vector in zip(ids(20), moved, strict=True):  # an updated row is found by its new vector
        assert view.search(vector, 1)[0][0] == moved_id
    assert view.label_of(ids(1, 100)[0]) is None and view.label_of(ids(1, 400)[0]) is None
    wanted = ids(10, 0) + ids(10, 500)  # a filter over labels of both parts
    allowed = view.labels_of(wanted)
    hits = view.search(first[0], 5, allowed=allowed.__contains__)
    assert {i for i, _ in hits} <= set(wanted)
    np.testing.assert_allclose(view.vectors(ids(3)), moved[:3])


def test_settled_changes_leave_the_tail() -> None:
    rng = np.random.default_rng(2)
    graph = HnswIndex(DIMS)
    tail = PendingTail(DIMS)
    vectors = unit(rng.standard_normal((600, DIMS)))
    tail.add(1, ids(300), vectors[:300])
    tail.add(2, ids(300, 300), vectors[300:])
    taken = tail.take(300)
    assert len(taken) == 1 and tail.rows == 300
    graph.upsert(taken[0][1], taken[0][2])  # what the worker does
    tail.settle(taken)
    assert len(tail.touched) == 300 and len(TailView(graph, tail)) == 600
    rest = tail.take(10_000)
    graph.upsert(rest[0][1], rest[0][2])
    tail.settle(rest)
    assert not tail.touched and len(tail.exact) == 0 and tail.rows == 0
    assert graph.search(vectors[450], 1)[0][0] == ids(1, 450)[0]


def test_search_right_after_a_large_batch_reads_its_writes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 3000  # more than a search applies to the graph itself: the tail is searched exactly
    data = unit(rng.standard_normal((n, DIMS)))
    rows = [{"key": f"k{i}", "doc": f"item {i}", "group": f"g{i % 4}"} for i in range(n)]
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        written = db.insert_batch("items", rows, vectors=data)
        for i in (0, 1234, n - 1):
            hits = db.search(vector=data[i], schema="items", top_k=3)
            assert hits[0][0]["key"] == f"k{i}"
        hits = db.search(vector=data[7], schema="items", top_k=5, where="group = 'g3'")
        assert hits[0][0]["key"] == "k7" and {e["group"] for e, _ in hits} == {"g3"}
        # deletes and new vectors in the pending tail are honoured
        more = unit(rng.standard_normal((n, DIMS)))
        db.insert_batch("items", rows, vectors=more)  # every row gets a new vector
        db.delete(written[10]["id"], hard=True)
        db.delete(written[11]["id"])
        assert db.search(vector=more[5], schema="items", top_k=1)[0][0]["key"] == "k5"
        assert all(e["key"] not in ("k10", "k11") for e, _ in db.search(vector=more[10], schema="items", top_k=5))
        assert all(e["key"] not in ("k10", "k11") for e, _ in db.search(vector=more[11], schema="items", top_k=5))
    with Database(tmp_path / "db") as db:  # after the worker caught up and saved: the same answers
        assert db.search(vector=more[5], schema="items", top_k=1)[0][0]["key"] == "k5"
        assert all(e["key"] not in ("k10", "k11") for e, _ in db.search(vector=more[10], schema="items", top_k=5))


def test_a_burst_of_single_inserts_is_searched_at_once_and_joins_the_graph_once_writes_pause(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    data = unit(rng.standard_normal((600, DIMS)))
    rows = [{"key": f"k{i}", "doc": f"item {i}", "group": f"g{i % 3}"} for i in range(600)]
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        db.insert_batch("items", rows[:400], vectors=data[:400])
        db.wait_idle()  # the graph holds the first 400
        state = {f"k{i}": data[i] for i in range(400)}
        for i in range(400, 600):  # new rows, one insert each: the worker leaves them for when writes pause
            db.insert("items", rows[i], vector=data[i])
            state[f"k{i}"] = data[i]
        moved = unit(rng.standard_normal((40, DIMS)))
        for i in range(40):  # new vectors for rows the graph holds: their old ones must not be found
            db.insert("items", rows[i], vector=moved[i])
            state[f"k{i}"] = moved[i]
        for query in (data[599], moved[3], data[450], data[3], *unit(rng.standard_normal((5, DIMS)))):
            got = [e["key"] for e, _ in db.search(vector=query, schema="items", top_k=5, ef=400)]
            assert got == exact(state, query, 5)
        g1 = {k: v for k, v in state.items() if int(k[1:]) % 3 == 1}
        got = [e["key"] for e, _ in db.search(vector=data[598], schema="items", top_k=5, ef=400,
                                              where="group = 'g1'")]
        assert got == exact(g1, data[598], 5)
        deadline = time.monotonic() + 60
        while (db.stats()["details"]["items"]["vector_index"]["elements"] != 600
               and time.monotonic() < deadline):
            time.sleep(0.05)
        # no wait_idle(): once the writes paused, the worker moved the burst into the graph by itself
        assert db.stats()["details"]["items"]["vector_index"]["elements"] == 600
        got = [e["key"] for e, _ in db.search(vector=moved[3], schema="items", top_k=5, ef=400)]
        assert got == exact(state, moved[3], 5)


def test_small_data_results_equal_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = unit(rng.standard_normal((800, DIMS)))
    rows = [{"key": f"k{i}", "doc": f"item {i}", "group": "g"} for i in range(800)]
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        db.insert_batch("items", rows, vectors=data)
        state = {f"k{i}".encode(): data[i] for i in range(800)}
        for query in unit(rng.standard_normal((10, DIMS))):
            got = [e["key"].encode() for e, _ in db.search(vector=query, schema="items", top_k=10, ef=400)]
            assert got == exact(state, query, 10)


def test_a_large_commit_is_taken_in_parts() -> None:
    rng = np.random.default_rng(5)
    tail = PendingTail(DIMS)
    vectors = unit(rng.standard_normal((100, DIMS)))
    tail.add(7, ids(100), vectors)
    tail.add(8, ids(3, 100), None)
    first = tail.take(32)
    assert [(p.seq, len(p.ids), p.last) for p in first] == [(7, 32, False)] and tail.rows == 71
    np.testing.assert_array_equal(first[0].vectors, vectors[:32])
    rest = tail.take(1000, upto=7)
    assert [(p.seq, len(p.ids), p.last) for p in rest] == [(7, 68, True)]  # the last part completes commit 7
    np.testing.assert_array_equal(rest[0].vectors, vectors[32:])
    assert tail.take(1000, upto=7) == [] and tail.rows == 3


def test_only_ids_with_an_older_vector_in_the_graph_are_masked() -> None:
    rng = np.random.default_rng(6)
    graph = HnswIndex(DIMS)
    old = unit(rng.standard_normal((200, DIMS)))
    graph.upsert(ids(200), old)
    tail = PendingTail(DIMS)
    tail.graph_has = lambda id16: graph.label_of(id16) is not None
    new = unit(rng.standard_normal((300, DIMS)))
    tail.add(1, ids(300, 200), new)  # a bulk load of new ids: nothing to mask in the graph
    assert not tail.suspects and not TailView(graph, tail).masked
    moved = unit(rng.standard_normal((2, DIMS)))
    tail.add(2, ids(2), moved)  # two graph rows get new vectors: their old ones must not be found
    assert tail.suspects == set(ids(2))
    again = unit(rng.standard_normal((1, DIMS)))
    tail.add(3, ids(1, 200), again)  # a pending new id changed again before the graph has it
    taken = tail.take(300)  # commit 1 reaches the graph; id 200 still has commit 3 pending
    graph.upsert(taken[0][1], taken[0][2])
    tail.settle(taken)
    assert tail.suspects == set(ids(2)) | set(ids(1, 200))
    view = TailView(graph, tail)
    assert view.search(old[0], 1)[0][0] != ids(1)[0]  # the old vector of a moved row is masked
    assert view.search(moved[1], 1)[0][0] == ids(1, 1)[0]
    assert view.search(again[0], 1)[0] == (ids(1, 200)[0], pytest.approx(1.0, abs=1e-5))
    # its superseded vector (in the graph now) is masked: only the pending one can match
    assert all(i != ids(1, 200)[0] or score < 0.9 for i, score in view.search(new[0], 5))
    rest = tail.take(1000)
    for piece in rest:
        graph.upsert(piece.ids, piece.vectors)
    tail.settle(rest)
    assert not tail.suspects and not tail.touched
