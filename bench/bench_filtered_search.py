"""Filtered vector search A/B (issue 20 item 3): ``search(vector=q, where="category = 'cN'", top_k=10)`` on
100,000 384-d clustered vectors with a 10-value indexed ``category`` (10 % selectivity), the working tree's
search engine against another copy of it, interleaved on the same open database and index.

Run::

    git archive HEAD src/rem_db | tar -x -C /tmp/base    # the committed code, for the "old" side
    python bench/bench_filtered_search.py --base /tmp/base/src/rem_db/search/engine.py --path /tmp/fdb

The database is built in ``--path`` on the first run (public API: ``insert_batch(vectors=)``) and reused.
Per round and side: "uncached" is the median over the nine first searches with each of c1..c9 after the
side's candidate cache is cleared (the query engine is warm); "cached" the p50 of 100 searches with
``category = 'c3'``. Recall@10 is against numpy's exact answer over the category's rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from rem_db import Database

DIMS = 384


def centres() -> np.ndarray:
    c = np.random.default_rng(0).standard_normal((200, DIMS)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def build(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    cs = centres()
    with Database(path) as db:
        db.register_schema({"title": "docs", "description": "bench", "type": "object",
                            "properties": {"key": {"type": "string"}, "body": {"type": "string"},
                                           "category": {"type": "string"}},
                            "indexed_fields": ["category"], "embedding_fields": ["body"]})
        for start in range(0, n, 10_000):
            count = min(10_000, n - start)
            vecs = cs[rng.integers(0, 200, count)] + 0.06 * rng.standard_normal((count, DIMS)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            db.insert_batch("docs", [{"key": f"k{i}", "body": f"doc {i}", "category": f"c{i % 10}"}
                                     for i in range(start, start + count)], vectors=vecs)
        db.search(vector=cs[0], schema="docs", top_k=1)  # waits for the index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="the other search/engine.py (the 'old' side)")
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not (args.path / "CURRENT").exists():
        build(args.path, args.n)
    spec = importlib.util.spec_from_file_location("rem_db.search.engine_base", args.base)
    assert spec is not None and spec.loader is not None
    base = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = base
    spec.loader.exec_module(base)
    db = Database(args.path)
    core = db._core
    engines: dict[str, Any] = {"old": base.SearchEngine(core.schemas, core.entities, core.embedder, core.indexes,
                                                        core.compile_filter), "new": core.search}
    rng = np.random.default_rng(7)
    qs = centres()[rng.integers(0, 200, 200)] + 0.06 * rng.standard_normal((200, DIMS)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    for eng in engines.values():
        eng.search(vector=qs[0], schema="docs", top_k=10, where="category = 'c0'")  # warm
    ids: list[bytes] = []
    mats = []
    for chunk_ids, mat in core.vectors.scan("docs", next(iter(core.indexes.handles))[1]):
        ids.extend(chunk_ids)
        mats.append(mat)
    data = np.vstack(mats)
    sel = np.array([e["category"] == "c3" for e in core.entities.get_many(ids)]).nonzero()[0]
    res: dict[str, dict[str, list[float]]] = {k: {"cached": [], "uncached": [], "recall": []} for k in engines}
    for r in range(args.rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            eng = engines[name]
            eng._cache.clear()
            un = []
            for c in range(1, 10):
                t0 = time.perf_counter()
                eng.search(vector=qs[c], schema="docs", top_k=10, where=f"category = 'c{c}'")
                un.append(time.perf_counter() - t0)
            res[name]["uncached"].append(statistics.median(un) * 1e3)
            lat = []
            for q in qs[:100]:
                t0 = time.perf_counter()
                hits = eng.search(vector=q, schema="docs", top_k=10, where="category = 'c3'")
                lat.append(time.perf_counter() - t0)
                assert len(hits) == 10 and all(e["category"] == "c3" for e, _ in hits)
                if r == 0:
                    truth = {ids[i] for i in sel[np.argsort(-(data[sel] @ q))[:10]]}
                    res[name]["recall"].append(len(truth & {uuid.UUID(e["id"]).bytes for e, _ in hits}) / 10)
            res[name]["cached"].append(statistics.median(lat) * 1e3)
        print(f"round {r}: " + ", ".join(f"{k} cached {v['cached'][-1]:.3f} / uncached {v['uncached'][-1]:.3f} ms"
                                          for k, v in res.items()) + f"  load {Path('/proc/loadavg').read_text()[:14]}")
    for name, v in res.items():
        print(f"{name}: cached p50 {statistics.median(v['cached']):.3f} ms, uncached "
              f"{statistics.median(v['uncached']):.3f} ms, recall@10 {np.mean(v['recall']):.3f}")
    for what in ("cached", "uncached"):
        ratio = statistics.median(a / b for a, b in zip(res["new"][what], res["old"][what], strict=True))
        print(f"new/old {what}: {ratio:.3f}")
    db.close()


if __name__ == "__main__":
    main()
