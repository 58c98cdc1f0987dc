"""Embedding and vector-search benchmarks (issue "Embeddings and vector search", SPEC §16).

    python bench/bench_vectors.py embed            # local embedding throughput, ~60-token texts, batch 64; accuracy
                                                   # vs fp32, per-text determinism, dense-layer ceiling (same run)
    python bench/bench_vectors.py embed --ab DIR   # interleaved A/B against the rem_db package copied into DIR/rem_db
                                                   # (git archive REV src/rem_db | tar -x --strip-components=1 -C DIR)
    python bench/bench_vectors.py insert           # batch insert of 1,000 docs vs pure embedding time
    python bench/bench_vectors.py search --n 100000 [--ef 64]   # p50 latency + recall@10, filtered search
    python bench/bench_vectors.py search --n 1000000            # the manual 1M run (build time, RAM, open)
    python bench/bench_vectors.py search --n 1000000 --real DIR # the same on real MiniLM vectors (real_sentences.py)

Search benches use synthetic clustered unit vectors (200 centres, noise 0.06: sentence embeddings are
clustered; uniformly random 384-d vectors have no meaningful nearest neighbours) written straight into the
embeddings column family, then searched through ``Database.search_vector``: the full path (pre-filter,
HNSW, entity fetch) minus the query embedding, which the embed bench measures on its own.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from rem_db import Database

DIMS = 384
SPEC = "local:all-MiniLM-L6-v2"
WORDS = (
    "energy", "storage", "hydrogen", "market", "board", "memo", "revenue", "growth", "plant", "water", "light",
    "data", "center", "campus", "power", "wind", "turbine", "fund", "capital", "investment", "partner", "term",
    "sheet", "office", "park", "hotel", "senior", "living", "warehouse", "industrial", "quarter", "forecast",
    "pipeline", "lender", "tenant", "lease", "yield", "margin", "cost", "grid", "battery", "solar",
)


def sixty_token_texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(50, 62))) + "." for _ in range(n)]


def bench_embed(runs: int, ceiling: bool = True) -> None:
    from tokenizers import Tokenizer

    from rem_db.embeddings import EmbeddingProviders
    from rem_db.embeddings.local import LocalMiniLM, model_dir

    texts = sixty_token_texts(640)
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    mean_tokens = statistics.mean(len(e.ids) for e in tok.encode_batch(texts))
    provider = EmbeddingProviders.from_env().get(SPEC)
    provider.embed_batch(texts[:64])  # warm up (model build/load)
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for start in range(0, len(texts), 64):
            provider.embed_batch(texts[start:start + 64])
        rates.append(len(texts) / (time.perf_counter() - t0))
    precision = getattr(provider, "precision", "?")
    print(f"local embedding ({precision}, {os.environ.get('P8_EMBEDDING_THREADS') or os.cpu_count()} threads): "
          f"640 texts, mean {mean_tokens:.0f} tokens, batch 64: median {statistics.median(rates):.0f} texts/s  "
          "(bar >= 200)  runs: " + ", ".join(f"{r:.0f}" for r in rates))
    batched = np.vstack([provider.embed_batch(texts[start:start + 64]) for start in range(0, len(texts), 64)])
    if precision == "int8":
        exact = LocalMiniLM(precision="fp32").embed_batch(texts)
        cosines = (batched * exact).sum(axis=1)
        print(f"  int8 vs exact fp32 on the same texts: min cosine {cosines.min():.4f}, mean {cosines.mean():.4f} "
              "(bar >= 0.99)")
    alone = [provider.embed_batch([text])[0] for text in texts[:64]]
    shuffled = list(range(640))
    random.Random(3).shuffle(shuffled)
    reordered = np.empty_like(batched)
    reordered[shuffled] = provider.embed_batch([texts[i] for i in shuffled])
    same = sum(np.array_equal(a, b) for a, b in zip(alone, batched, strict=False))
    print(f"  per-text determinism: {same}/64 vectors bit-identical alone and in their batch of 64; "
          f"{sum(np.array_equal(a, b) for a, b in zip(batched, reordered, strict=True))}/640 in one shuffled call")
    if ceiling:
        from bench_gemm import dense_ceiling

        dense_ceiling()  # the dense layers alone, in the same run (same machine load)


def _load_copy(directory: Path) -> Any:
    """The ``embeddings.local`` module of the rem_db package copied into ``directory/rem_db``, imported under
    another name (``rem_db_ab``) beside the current one."""
    import importlib
    import importlib.util

    spec = importlib.util.spec_from_file_location("rem_db_ab", directory / "rem_db" / "__init__.py",
                                                  submodule_search_locations=[str(directory / "rem_db")])
    if spec is None or spec.loader is None:
        raise SystemExit(f"no rem_db package in {directory}")
    package = importlib.util.module_from_spec(spec)
    sys.modules["rem_db_ab"] = package
    spec.loader.exec_module(package)
    return importlib.import_module("rem_db_ab.embeddings.local")


def bench_embed_ab(old_dir: Path, rounds: int) -> None:
    """Interleaved A/B: the local int8 provider of the copy in ``old_dir`` vs the current one, and the dense-layer
    ceiling (bench_gemm's dense-only graph, groups of 8, two threads), one pass of 640 texts each per round, in
    alternating order. Rates swing with the machine's load, so per-round ratios are what to read."""
    import threading

    import onnxruntime as ort

    from bench_gemm import HIDDEN, TOKENS, dense_only
    from rem_db.embeddings.local import LocalMiniLM

    texts = sixty_token_texts(640)
    providers = {"old": _load_copy(old_dir).LocalMiniLM(precision="int8"), "new": LocalMiniLM(precision="int8")}
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    dense = ort.InferenceSession(dense_only(8), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((8 * TOKENS, HIDDEN)).astype(np.float32)

    def ceiling_pass() -> float:
        def work() -> None:
            for _ in range(640 // 8 // 2):
                dense.run(None, {"x": x})
        threads = [threading.Thread(target=work) for _ in range(2)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return 640 / (time.perf_counter() - t0)

    def provider_pass(provider: Any) -> float:
        t0 = time.perf_counter()
        for start in range(0, len(texts), 64):
            provider.embed_batch(texts[start:start + 64])
        return len(texts) / (time.perf_counter() - t0)

    passes = {"old": lambda: provider_pass(providers["old"]), "new": lambda: provider_pass(providers["new"]),
              "ceiling": ceiling_pass}
    for run in passes.values():
        run()  # warm up (model build/load)
    rates: dict[str, list[float]] = {name: [] for name in passes}
    for r in range(rounds):
        for name in (list(passes) if r % 2 == 0 else list(passes)[::-1]):
            rates[name].append(passes[name]())
    ratio = [n / o for n, o in zip(rates["new"], rates["old"], strict=True)]
    print(f"interleaved A/B, {rounds} rounds of 640 texts (mean ~60 tokens, batch 64, int8, "
          f"{os.environ.get('P8_EMBEDDING_THREADS') or os.cpu_count()} threads):")
    for name in passes:
        print(f"  {name:8s} median {statistics.median(rates[name]):6.1f} texts/s  runs: "
              + ", ".join(f"{v:.0f}" for v in rates[name]))
    print(f"  new / old per round: median {statistics.median(ratio):.3f} (quartiles "
          f"{np.percentile(ratio, 25):.3f}-{np.percentile(ratio, 75):.3f}); share of the dense-layer ceiling: old "
          f"{statistics.median(o / c for o, c in zip(rates['old'], rates['ceiling'], strict=True)):.3f}, new "
          f"{statistics.median(n / c for n, c in zip(rates['new'], rates['ceiling'], strict=True)):.3f}")


def bench_insert(runs: int) -> None:
    from rem_db.embeddings import EmbeddingProviders

    provider = EmbeddingProviders.from_env().get(SPEC)
    texts = sixty_token_texts(1000, seed=7)
    provider.embed_batch(texts[:64])
    overheads, pure_times, insert_times = [], [], []
    for run in range(runs):
        t0 = time.perf_counter()
        for start in range(0, 1000, 100):  # what the write path does: P8_EMBEDDING_BATCH_SIZE=100
            provider.embed_batch(texts[start:start + 100])
        pure = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp, Database(Path(tmp) / "db") as db:
            rows = [{"uri": f"doc-{run}-{i}", "content": t} for i, t in enumerate(texts)]
            t0 = time.perf_counter()
            db.insert_batch("resources", rows)
            total = time.perf_counter() - t0
        pure_times.append(pure)
        insert_times.append(total)
        overheads.append((total - pure) / pure * 100)
    print(f"batch insert 1,000 docs with local embeddings: median {statistics.median(insert_times):.2f} s, "
          f"pure embedding {statistics.median(pure_times):.2f} s, overhead median "
          f"{statistics.median(overheads):.1f} % (bar <= 10 %)  runs: " + ", ".join(f"{o:.1f}%" for o in overheads))


def clustered(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, DIMS)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres, rng


def make_db(path: Path, n: int, real: np.ndarray | None = None, password: str | None = None) -> float:
    """A ``docs`` table of n rows (10 categories) with synthetic vectors (or the ``real`` ones), encrypted
    with ``password`` if given; returns the index build seconds."""
    centres, rng = clustered(n, 0)
    schema = {"title": "docs", "description": "Synthetic documents for the vector benchmark.", "type": "object",
              "properties": {"key": {"type": "string"}, "body": {"type": "string"},
                             "category": {"type": "string"}},
              "indexed_fields": ["category"], "embedding_fields": ["body"]}
    with Database(path, password=password) as db:
        db.register_schema(schema)
        engine = db._engine
        for start in range(0, n, 10_000):
            count = min(10_000, n - start)
            rows = [{"key": f"k{i}", "body": f"doc {i}", "category": f"c{i % 10}"} for i in range(start, start + count)]
            written = engine.put_many("docs", rows, embed_mode="lazy")
            if real is not None:
                vecs = real[start:start + count]
            else:
                noise = rng.standard_normal((count, DIMS)).astype(np.float32)
                vecs = centres[rng.integers(0, 200, count)] + 0.06 * noise
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            with engine.lock:
                batch = engine.store.batch()
                for row, vec in zip(written, vecs, strict=True):
                    db._vectors.put(batch, "docs", SPEC, uuid.UUID(row["id"]).bytes, vec)
                db._vectors.record(batch, "docs", SPEC, DIMS)
                engine.commit(batch)
            db._embedder._recorded.clear()
        t0 = time.perf_counter()
        db.search_vector(centres[0], "docs", top_k=1)  # builds the index from the stored vectors
        build = time.perf_counter() - t0
    return build


def bench_search(n: int, runs: int, ef: int, keep: Path | None, real_dir: Path | None = None) -> None:
    path = keep or Path(tempfile.mkdtemp()) / "db"
    build = None
    real = real_queries = None
    if real_dir is not None:
        from real_sentences import load

        real, real_queries = load(real_dir, n)
    if not (path / "CURRENT").exists():
        build = make_db(path, n, real)
    t0 = time.perf_counter()
    db = Database(path)
    opened = time.perf_counter() - t0
    assert db.lookup("k1")  # a first key-index answer from the fresh handle
    first_query = time.perf_counter() - t0
    centres, _ = clustered(n, 0)  # the data's cluster centres
    rng = np.random.default_rng(1)
    queries = centres[rng.integers(0, 200, 200)] + 0.06 * rng.standard_normal((200, DIMS)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    if real_queries is not None:
        queries = real_queries
    t0 = time.perf_counter()
    db.search_vector(queries[0], "docs", top_k=10)
    loaded = time.perf_counter() - t0
    handle = db._indexes.handles[("docs", SPEC)]
    handle.index.set_ef(ef)
    # exact answers from the stored vectors
    ids, mats = [], []
    for chunk_ids, mat in db._vectors.scan("docs", SPEC):
        ids.extend(chunk_ids)
        mats.append(mat)
    data = np.vstack(mats)
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    recalls, lat_runs, flt_runs = [], [], []
    for _ in range(runs):
        lat = []
        for q, exact in zip(queries, truth, strict=True):
            t0 = time.perf_counter()
            hits = db.search_vector(q, "docs", top_k=10)
            lat.append(time.perf_counter() - t0)
            got = {uuid.UUID(e["id"]).bytes for e, _ in hits}
            recalls.append(len(got & {ids[i] for i in exact}) / 10)
        lat_runs.append(statistics.median(lat) * 1e3)
        flt = []
        for n_q, q in enumerate(queries[:100]):
            t0 = time.perf_counter()
            hits = db.search_vector(q, "docs", top_k=10, where=f"category = 'c{n_q % 10}'")
            flt.append(time.perf_counter() - t0)
            assert len(hits) == 10 and all(e["category"] == f"c{n_q % 10}" for e, _ in hits)
        flt_runs.append(statistics.median(flt) * 1e3)
    db.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data_kind = "real MiniLM vectors of generated sentences" if real_dir is not None else "synthetic clustered"
    print(f"{n:,} x {DIMS} vectors ({data_kind}), M=16, efC=128, ef={ef}:")
    if build is not None:
        print(f"  index build from stored vectors: {build:.1f} s")
    print(f"  search p50 (top 10, incl. entity fetch): median {statistics.median(lat_runs):.3f} ms, "
          f"recall@10 {np.mean(recalls):.3f}  runs: " + ", ".join(f"{v:.3f}" for v in lat_runs))
    print(f"  filtered search p50 (10 % selectivity, category = ...): median {statistics.median(flt_runs):.3f} ms"
          f"  runs: " + ", ".join(f"{v:.3f}" for v in flt_runs))
    print(f"  open: Database() {opened * 1e3:.0f} ms, first query answered {first_query * 1e3:.0f} ms; "
          f"index load before first search {loaded * 1e3:.0f} ms; peak RSS {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["embed", "insert", "search"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--no-ceiling", action="store_true", help="embed: skip the dense-layer ceiling")
    parser.add_argument("--ab", type=Path, help="embed: interleaved A/B against the rem_db package in DIR/rem_db "
                        "(--runs rounds)")
    parser.add_argument("--keep", type=Path, help="database directory to reuse between runs (search)")
    parser.add_argument("--real", type=Path, help="search real MiniLM vectors embedded into this directory by "
                        "bench/real_sentences.py (the first --n sentences; 200 others are the queries)")
    args = parser.parse_args()
    os.environ.setdefault("P8_LOG_LEVEL", "WARNING")
    if args.what == "embed" and args.ab:
        bench_embed_ab(args.ab, args.runs)
    elif args.what == "embed":
        bench_embed(args.runs, ceiling=not args.no_ceiling)
    elif args.what == "insert":
        bench_insert(args.runs)
    else:
        bench_search(args.n, args.runs, args.ef, args.keep, args.real)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
