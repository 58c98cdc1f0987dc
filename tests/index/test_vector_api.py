"""The public vector API (SPEC §6, docs/search.md): precomputed vectors on insert, search by a query vector,
``ef`` per call and the per-schema ``hnsw`` setting — on real databases in tmp_path, checked against numpy's
exact answers."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from vector_items import ITEMS, unit

from rem_db import AsyncDatabase, Database, EmbeddingError, QueryError, SchemaError, ValidationError

DIMS = 48


def clustered(n: int, dims: int = DIMS, seed: int = 0, queries: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Vectors around random centres (like sentence embeddings), and queries near the same centres."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((40, dims)))
    data = unit(centres[rng.integers(0, 40, n)] + 0.15 * rng.standard_normal((n, dims)))
    probe = unit(centres[rng.integers(0, 40, queries)] + 0.15 * rng.standard_normal((queries, dims)))
    return data, probe


def rows(n: int) -> list[dict[str, Any]]:
    return [{"key": f"k{i}", "doc": f"item number {i}", "group": f"g{i % 4}"} for i in range(n)]


def exact_keys(data: np.ndarray, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[str]:
    index = np.arange(len(data)) if allowed is None else np.asarray(allowed)
    order = np.argsort(-(data[index] @ query), kind="stable")[:k]
    return [f"k{int(index[n])}" for n in order]


def schema(**settings: Any) -> dict[str, Any]:
    raw = copy.deepcopy(ITEMS)
    raw.update(settings)
    return raw


def saved_graph(db_path: Path, table: str = "items") -> dict[str, Any]:
    """The layout of the saved graph (``NAME.json``, key ``graph``: hnswlib's parameters)."""
    meta = next((db_path / "indexes" / "default").glob(f"{table}__*.json"))
    return dict(orjson.loads(meta.read_bytes())["graph"])


def recall(db: Database, data: np.ndarray, queries: np.ndarray, k: int, ef: int | None) -> float:
    found = 0
    for query in queries:
        hits = {e["key"] for e, _ in db.search(vector=query, schema="items", top_k=k, ef=ef)}
        found += len(hits & set(exact_keys(data, query, k)))
    return found / (k * len(queries))


# -- insert_batch(vectors=) + search(vector=) ------------------------------------------------------------------
def test_precomputed_vectors_are_searched_like_numpy_exact_search(tmp_path: Path) -> None:
    data, queries = clustered(1500)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        written = db.insert_batch("items", rows(1500), vectors=data)
        assert len(written) == 1500
        db.search(vector=queries[0], schema="items")
        db.wait_idle()  # the HNSW graph is built: what follows is answered by it, not by the exact stand-in
        for query in queries[:20]:
            hits = db.search(vector=query, schema="items", top_k=10)
            assert hits[0][0]["key"] == exact_keys(data, query, 1)[0]
            scores = [s for _, s in hits]
            best = [data[int(e["key"][1:])] @ query for e, _ in hits]
            assert np.allclose(scores, best, atol=1e-4)  # score = cosine similarity
        assert recall(db, data, queries, 10, None) >= 0.95
        # search_vector stays as the alias, and a list of floats works as well as an array
        assert db.search_vector(queries[0].tolist(), "items", top_k=3) == db.search(vector=queries[0],
                                                                                    schema="items", top_k=3)
        # a pre-filter applies to vector searches too
        group = [i for i in range(1500) if i % 4 == 2]
        filtered = db.search(vector=queries[1], schema="items", top_k=5, where="\"group\" = 'g2'")
        assert [e["key"] for e, _ in filtered] == exact_keys(data, queries[1], 5, group)


def test_vectors_are_stored_as_unit_float32_and_survive_reopen(tmp_path: Path) -> None:
    data, queries = clustered(300, seed=1)
    scaled = data * np.linspace(0.5, 40, 300, dtype=np.float32)[:, None]  # cosine ignores the length
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        written = db.insert_batch("items", rows(300), vectors=scaled.astype(np.float64).tolist())
        before = [[e["key"] for e, _ in db.search(vector=q, schema="items", top_k=5)] for q in queries[:10]]
    with Database(tmp_path / "db") as db:
        after = [[e["key"] for e, _ in db.search(vector=q, schema="items", top_k=5)] for q in queries[:10]]
        stored = db.get(written[7]["id"], include_embeddings=True)["embedding"]
        assert db.count("items") == 300
    assert after == before
    assert before[0][0] == exact_keys(data, queries[0], 1)[0]
    assert np.allclose(stored, data[7], atol=1e-6) and abs(np.linalg.norm(stored) - 1) < 1e-5


def test_each_vector_is_stored_once_at_full_precision(tmp_path: Path) -> None:
    """The index files hold the graph and 8-bit codes, never the float32 vectors a second time; the index is
    put back together from the stored vectors when the database opens again, with the same answers."""
    data, queries = clustered(2000, dims=384, seed=4)
    path = tmp_path / "db"
    with Database(path) as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(2000), vectors=data)
        db.wait_idle()
        before = [[e["key"] for e, _ in db.search(vector=q, schema="items", top_k=5)] for q in queries[:20]]
        disk = db.stats()["disk"]
    raw = 2000 * 384 * 4
    assert disk["vectors"] >= raw and disk["vector_index_files"] < raw // 2
    with Database(path) as db:
        db.wait_idle()  # the graph is loaded (not the stand-in answering from the files)
        assert db.stats()["details"]["items"]["vector_index"]["kind"] == "hnsw"
        after = [[e["key"] for e, _ in db.search(vector=q, schema="items", top_k=5)] for q in queries[:20]]
        hits = db.search(vector=data[11], schema="items", top_k=1)
    assert after == before and hits[0][0]["key"] == "k11" and hits[0][1] == pytest.approx(1.0, abs=1e-6)


def test_an_index_saved_by_an_earlier_version_is_rebuilt_and_its_file_removed(tmp_path: Path) -> None:
    data, queries = clustered(300, seed=5)
    path = tmp_path / "db"
    with Database(path) as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(300), vectors=data)
        db.wait_idle()
    meta_path = next((path / "indexes" / "default").glob("items__*.json"))
    base = meta_path.with_name(meta_path.name.removesuffix(".json"))
    Path(str(base) + ".graph").unlink()  # the set an earlier version saved: hnswlib's own file, format 1
    legacy = Path(str(base) + ".hnsw")
    legacy.write_bytes(b"\0" * 4096)
    meta_path.write_bytes(orjson.dumps({**orjson.loads(meta_path.read_bytes()), "format": 1}))
    with Database(path) as db:
        assert [e["key"] for e, _ in db.search(vector=queries[0], schema="items", top_k=3)] == exact_keys(
            data, queries[0], 3)
        db.wait_idle()
        assert db.stats()["details"]["items"]["vector_index"]["kind"] == "hnsw"
    assert Path(str(base) + ".graph").exists() and not legacy.exists()


def test_single_insert_with_a_vector_and_updates_keep_it(tmp_path: Path) -> None:
    data, _ = clustered(50, seed=2)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(49), vectors=data[:49])
        one = db.insert("items", {"key": "solo", "doc": "on its own", "group": "g9"}, vector=data[49])
        assert db.search(vector=data[49], schema="items", top_k=1)[0][0]["id"] == one["id"]
        db.update(one["id"], {"group": "g8"})  # not an embedding field: the given vector stays
        hit, score = db.search(vector=data[49], schema="items", top_k=1)[0]
        assert hit["id"] == one["id"] and hit["group"] == "g8" and score > 0.999
        # a row without text keeps the vector it was given
        bare = db.insert("items", {"key": "bare"}, vector=-data[49])
        assert db.search(vector=-data[49], schema="items", top_k=1)[0][0]["id"] == bare["id"]


# -- bad vectors: ValidationError naming the table, the row and the dimension; nothing written ---------------
@pytest.mark.parametrize(("vectors", "words"), [
    (lambda d: d[:4], ["items", "4 vectors for 5 rows"]),
    (lambda d: d[:, :10], ["items row 1 (index 0)", "10 dimensions", f"expected {DIMS}"]),
    (lambda d: np.vstack([d[:2], np.full((1, DIMS), np.nan), d[3:]]), ["items row 3 (index 2)", "NaN"]),
    (lambda d: np.vstack([d[:4], np.full((1, DIMS), np.inf)]), ["items row 5 (index 4)", "infinity"]),
    (lambda d: np.vstack([d[:1], np.zeros((1, DIMS)), d[2:]]), ["items row 2 (index 1)", "all zeros"]),
    (lambda d: [*d[:3].tolist(), d[3, :-1].tolist(), d[4].tolist()],
     ["items row 4 (index 3)", f"{DIMS - 1} dimensions", f"expected {DIMS}"]),
    (lambda d: [*d[:2].tolist(), ["a"] * DIMS, *d[3:].tolist()], ["items row 3 (index 2)", "not a sequence of num"]),
    (lambda d: {"doc": d}, ["one vector per row"]),
    (lambda d: d[0], ["one vector per row", "got one vector"]),
])
def test_bad_vectors_are_refused_and_nothing_is_written(tmp_path: Path, vectors: Any, words: list[str]) -> None:
    data, _ = clustered(10, seed=3)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(3), vectors=data[:3])  # fixes the table's dimension
        new = [{"key": f"new{i}", "doc": f"new item {i}"} for i in range(5)]
        with pytest.raises(ValidationError) as caught:
            db.insert_batch("items", new, vectors=vectors(data[5:10]))
        for word in words:
            assert word in str(caught.value)
        assert caught.value.table == "items"
        assert db.count("items") == 3 and db.lookup("new0") == []
        assert len(db.search(vector=data[0], schema="items", top_k=10)) == 3


def test_first_vectors_fix_the_dimension_and_a_mixed_first_batch_is_refused(tmp_path: Path) -> None:
    data, _ = clustered(4, seed=4)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        ragged = [data[0].tolist(), data[1].tolist(), data[2, :20].tolist()]
        with pytest.raises(ValidationError, match=r"row 3 \(index 2\).*20 dimensions, expected 48 like the first"):
            db.insert_batch("items", rows(3), vectors=ragged)
        assert db.count("items") == 0
        db.insert("items", {"key": "a", "doc": "first"}, vector=data[3, :20])
        with pytest.raises(ValidationError, match="48 dimensions, expected 20"):
            db.insert("items", {"key": "b", "doc": "second"}, vector=data[0])
        assert db.lookup("b") == []


def test_a_table_without_embedding_fields_takes_no_vectors(tmp_path: Path) -> None:
    plain = schema()
    del plain["embedding_fields"]
    with Database(tmp_path / "db") as db:
        db.register_schema(plain)
        with pytest.raises(ValidationError, match="items: the table has no embedding_fields"):
            db.insert_batch("items", rows(2), vectors=np.ones((2, 4)))
        assert db.count("items") == 0


# -- search arguments -------------------------------------------------------------------------------------
def test_query_and_vector_exactly_one_and_query_vector_checks(tmp_path: Path) -> None:
    data, _ = clustered(20, seed=5)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(20), vectors=data)
        with pytest.raises(ValidationError, match="either a query text or a query vector"):
            db.search(schema="items")
        with pytest.raises(ValidationError, match="not both"):
            db.search("item", schema="items", vector=data[0])
        with pytest.raises(ValidationError, match="hybrid search ranks by the words"):
            db.search(vector=data[0], schema="items", hybrid=True)
        with pytest.raises(ValidationError, match=f"search for table 'items': the query vector has 3 dimensions, "
                                                  f"expected {DIMS}"):
            db.search(vector=[1.0, 2.0, 3.0], schema="items")
        with pytest.raises(ValidationError, match="NaN"):
            db.search(vector=np.full(DIMS, np.nan), schema="items")
        with pytest.raises(ValidationError, match="all zeros"):
            db.search(vector=np.zeros(DIMS), schema="items")
        with pytest.raises(ValidationError, match="not text"):
            db.search(vector="0.1, 0.2", schema="items")


def test_vector_search_without_a_table_spans_the_tables_of_its_dimension(tmp_path: Path) -> None:
    data, _ = clustered(30, seed=6)
    other = schema(title="others")
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.register_schema(other)
        db.insert_batch("items", rows(15), vectors=data[:15])
        db.insert_batch("others", [{"key": f"o{i}", "doc": "x"} for i in range(15)], vectors=data[15:])
        db.register_schema(schema(title="small"))
        db.insert("small", {"key": "s", "doc": "x"}, vector=[1.0, 0.0, 0.0])
        hits = db.search(vector=data[20], top_k=3)
        assert hits[0][0]["key"] == "o5" and {e["entity_type"] for e, _ in hits} <= {"items", "others"}
        assert db.search(vector=[0.0, 1.0, 0.0], top_k=5)[0][0]["key"] == "s"
        with pytest.raises(ValidationError, match=r"5 dimensions and no table holds 5-d vectors \(.*small: 3-d"):
            db.search(vector=[1.0] * 5)


def test_a_filter_on_a_column_one_table_lacks_skips_that_table_only(tmp_path: Path) -> None:
    data, _ = clustered(20, seed=7)
    plain = schema(title="plain")
    plain["properties"] = {"key": {"type": "string"}, "doc": {"type": "string"}}
    plain["indexed_fields"] = []
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.register_schema(plain)
        db.insert_batch("items", rows(10), vectors=data[:10])
        db.insert_batch("plain", [{"key": f"p{i}", "doc": "x"} for i in range(10)], vectors=data[10:])
        hits = db.search(vector=data[12], top_k=5, where="\"group\" = 'g1'")  # only items has a group
        assert hits and {e["entity_type"] for e, _ in hits} == {"items"}
        assert {e["group"] for e, _ in hits} == {"g1"}
        with pytest.raises(QueryError, match=r"unknown column 'grup'.*did you mean 'group'"):
            db.search(vector=data[12], top_k=5, where="grup = 'g1'")  # no table knows it: still an error


def test_ef_per_call_never_lowers_recall_and_bad_ef_is_refused(tmp_path: Path) -> None:
    data, queries = clustered(3000, seed=7, queries=60)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema(hnsw={"m": 4, "ef_construction": 8, "ef_search": 10}))  # a weak graph
        db.insert_batch("items", rows(3000), vectors=data)
        db.search(vector=queries[0], schema="items")
        db.wait_idle()  # the HNSW graph is built (searches are exact until then)
        recalls = [recall(db, data, queries, 10, ef) for ef in (10, 20, 50, 200, 1000)]
        assert recalls == sorted(recalls), recalls
        assert recalls[-1] - recalls[0] >= 0.1, recalls  # the fixture is one where ef matters
        assert recall(db, data, queries, 10, None) == recalls[0]  # the default is the schema's ef_search (10)
        for bad, words in ((0, "ef must be a whole number from top_k (10)"), (5, "from top_k (10)"),
                           (10_001, "to 10,000"), (True, "got True"), (12.5, "got 12.5")):
            with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
                db.search(vector=queries[0], schema="items", ef=bad)
        assert db.search(vector=queries[0], schema="items", top_k=1, ef=1)


# -- the hnsw schema setting -------------------------------------------------------------------------------
def test_hnsw_settings_build_the_index_and_a_change_rebuilds_it(tmp_path: Path) -> None:
    data, queries = clustered(400, seed=8)
    path = tmp_path / "db"
    with Database(path) as db:
        described = db.register_schema(schema(hnsw={"m": 8, "ef_construction": 40, "ef_search": 30}))
        assert described["hnsw"] == {"m": 8, "ef_construction": 40, "ef_search": 30}
        db.insert_batch("items", rows(400), vectors=data)
        db.search(vector=queries[0], schema="items")
    saved = saved_graph(path)
    assert (saved["M"], saved["ef_construction"]) == (8, 40)

    with Database(path) as db:
        assert db.get_schema("items")["hnsw"]["ef_search"] == 30
        nearest = [exact_keys(data, q, 1)[0] for q in queries[:5]]
        assert [db.search(vector=q, schema="items", top_k=1)[0][0]["key"] for q in queries[:5]] == nearest
        new = schema(hnsw={"m": 12, "ef_construction": 60, "ef_search": 30}, version="1.1.0")
        db.register_schema(new)  # a new graph: rebuilt from the stored vectors, searches go on meanwhile
        assert [db.search(vector=q, schema="items", top_k=1)[0][0]["key"] for q in queries[:5]] == nearest
        db.wait_idle()
        assert [db.search(vector=q, schema="items", top_k=1)[0][0]["key"] for q in queries[:5]] == nearest
    saved = saved_graph(path)
    assert (saved["M"], saved["ef_construction"], saved["cur_element_count"]) == (12, 60, 400)


def test_default_hnsw_settings_are_reported(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        assert db.register_schema(schema())["hnsw"] == {"m": 16, "ef_construction": 128, "ef_search": 64}


@pytest.mark.parametrize(("hnsw", "words"), [
    ({"m": 0}, "hnsw.m must be a whole number from 2 to 100, got 0"),
    ({"m": 1000}, "hnsw.m must be a whole number from 2 to 100, got 1000"),
    ({"ef_search": -1}, "hnsw.ef_search must be a whole number from 1 to 10,000"),
    ({"ef_construction": "many"}, "hnsw.ef_construction must be a whole number"),
    ({"m": True}, "hnsw.m must be a whole number"),
    ({"m": 32, "ef_construction": 16}, "hnsw.ef_construction (16) must be at least hnsw.m (32)"),
    ({"M": 16}, "hnsw has no setting 'M' (settings: m, ef_construction, ef_search)"),
    ([16, 128], "hnsw must be an object"),
])
def test_bad_hnsw_settings_are_schema_errors(tmp_path: Path, hnsw: Any, words: str) -> None:
    with Database(tmp_path / "db") as db:
        with pytest.raises(SchemaError) as caught:
            db.register_schema(schema(hnsw=hnsw))
        assert "schema 'items'" in str(caught.value) and words in str(caught.value)
        # the nested json_schema_extra placement is read too
        nested = schema()
        nested["json_schema_extra"] = {"hnsw": hnsw}
        with pytest.raises(SchemaError, match="hnsw"):
            db.register_schema(nested)


# -- text search on a table of precomputed vectors --------------------------------------------------------
def test_vectors_of_another_dimension_than_the_provider_are_searched_by_vector_only(tmp_path: Path) -> None:
    data, _ = clustered(10, seed=9)
    with Database(tmp_path / "db") as db:
        db.register_schema(schema())
        db.insert_batch("items", rows(10), vectors=data)
        with pytest.raises(EmbeddingError) as caught:
            db.search("item number 3", schema="items")
        message = str(caught.value)
        assert f"'items' holds {DIMS}-d vectors" in message and "384-d" in message
        assert "search(vector=...)" in message
        assert db.search("item number 3") == []  # all tables: this one is left out, not an error
        with pytest.raises(EmbeddingError, match="give the vectors of rows whose embedding fields"):
            db.insert("items", {"key": "text-only", "doc": "no vector here"})
        assert db.lookup("text-only") == []


def test_vectors_of_the_provider_make_text_search_work(tmp_path: Path) -> None:
    from rem_db.embeddings.providers import EmbeddingProviders

    texts = ["The knight jumps over other chess pieces.", "Bees turn nectar into honey in the hive.",
             "The train reached 320 km/h between Paris and Lyon."]
    with Database(tmp_path / "db") as db:
        provider = EmbeddingProviders(db.settings).get(None)
        db.register_schema(schema())
        db.insert_batch("items", [{"key": f"t{i}", "doc": t} for i, t in enumerate(texts)],
                        vectors=provider.embed_batch(texts))  # e.g. exported from Chroma, same model
        assert db.search("making honey", schema="items", top_k=1)[0][0]["key"] == "t1"
        db.insert("items", {"key": "t3", "doc": "Lava flowed from the volcano into the sea."})  # embedded here
        assert db.search("eruption", schema="items", top_k=1)[0][0]["key"] == "t3"


# -- AsyncDatabase and the CLI ------------------------------------------------------------------------------
def test_async_database_takes_vectors_and_ef(tmp_path: Path) -> None:
    data, queries = clustered(100, seed=10)

    async def main() -> list[tuple[dict[str, Any], float]]:
        async with AsyncDatabase(tmp_path / "db") as db:
            await db.register_schema(schema())
            await db.insert_batch("items", rows(100), vectors=data)
            return await db.search(vector=queries[0], schema="items", top_k=3, ef=50)

    hits = asyncio.run(main())
    assert [e["key"] for e, _ in hits] == exact_keys(data, queries[0], 3)


def test_rem_search_ef_option(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Database(path) as db:
        db.register_schema(schema())
        db.insert_batch("items", [{"key": "bees", "doc": "Bees make honey from nectar."},
                                  {"key": "rail", "doc": "The train runs from Paris to Lyon."}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("P8_")}
    env.update({"P8_HOME": str(tmp_path / "home"), "NO_COLOR": "1"})

    def rem(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rem_db.cli.main", "--db-path", str(path), *args],
                              capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)

    bad = rem("search", "honey", "--schema", "items", "--ef", "0")
    assert bad.returncode == 1 and bad.stderr.startswith("error: ef must be a whole number from top_k (10)")
    assert "Traceback" not in bad.stderr and bad.stdout == ""
    good = rem("search", "honey", "--schema", "items", "--ef", "32", "--top-k", "1", "--format", "json")
    assert good.returncode == 0, good.stderr
    hits = json.loads(good.stdout)
    assert [h["key"] for h in hits] == ["bees"] and 0 < hits[0]["_score"] <= 1
