"""Filtered vector search by probing (search/probe.py): for an equality the field index answers exactly, the
graph's nearest rows are checked by point reads instead of reading every id of the value first. The answers
must equal the ones of reading the candidate ids (used for repeated filters) and numpy's exact search, with
soft-deleted rows left out and selective filters falling back. Real databases in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vector_items import ITEMS, unit

from rem_db import Database
from rem_db.index.exact import ExactIndex
from rem_db.search.probe import probed_search

DIMS = 32
N = 3000


def exact_top(data: np.ndarray, groups: list[str], query: np.ndarray, group: str, k: int,
              skip: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    scores = data @ query
    order = [int(i) for i in np.argsort(-scores, kind="stable") if groups[i] == group and int(i) not in skip]
    return [f"k{i}" for i in order[:k]]


def test_probed_filtered_search_equals_exact_search_first_time_and_repeated(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    data = unit(rng.standard_normal((N, DIMS)))
    groups = [f"g{i % 10}" for i in range(N)]
    groups[77] = "rare"  # one row: a probe of the nearest rows cannot find enough, reading the ids can
    rows = [{"key": f"k{i}", "doc": f"item {i}", "group": groups[i]} for i in range(N)]
    with Database(tmp_path / "db") as db:
        db.register_schema(ITEMS)
        written = db.insert_batch("items", rows, vectors=data)
        db.wait_idle()
        db.delete(written[3]["id"])  # soft-deleted: never returned
        queries = unit(rng.standard_normal((12, DIMS)))
        for n, query in enumerate(queries):  # four rounds per filter: probed, probed, read, cached
            group = f"g{n % 3}"
            for _ in range(4):
                hits = db.search(vector=query, schema="items", top_k=5, where=f"\"group\" = '{group}'", ef=400)
                assert [e["key"] for e, _ in hits] == exact_top(data, groups, query, group, 5, skip={3})
        hits = db.search(vector=queries[0], schema="items", top_k=3, where="\"group\" = 'rare'")
        assert [e["key"] for e, _ in hits] == ["k77"]
        assert db.search(vector=data[3], schema="items", top_k=5, where="\"group\" = 'g3'", include_deleted=True
                         )[0][0]["key"] == "k3"


def test_a_probe_that_finds_too_few_asks_for_the_candidate_ids() -> None:
    rng = np.random.default_rng(12)
    index = ExactIndex(DIMS)
    ids = [i.to_bytes(16, "big") for i in range(2000)]
    index.upsert(ids, unit(rng.standard_normal((2000, DIMS))))
    wanted = set(ids[::100])  # 1 %: the nearest 200 hold about two
    query = unit(rng.standard_normal((1, DIMS)))[0]
    assert probed_search(index, query, 10, lambda batch: [i in wanted for i in batch], set(), None, 400) is None
    common = set(ids[::2])  # 50 %: the nearest 200 hold plenty; an excluded id is skipped
    found = probed_search(index, query, 10, lambda batch: [i in common for i in batch], {ids[0]}, None, 400)
    assert found is not None and len(found) == 10
    assert [i for i, _ in found] == [i for i, _ in index.search(query, 2000) if i in common and i != ids[0]][:10]
