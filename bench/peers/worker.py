"""One system, one round of the peers benchmark, in its own process: prints one JSON line of figures.

    python bench/peers/worker.py SYSTEM DIR --n N           # load, search, filter, get, insert, disk
    python bench/peers/worker.py SYSTEM DIR --reopen        # open DIR and answer one search: seconds
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from peers.corpus import CATEGORIES, Corpus, ensure  # noqa: E402

K = 10
BUDGET = 15.0  # seconds at most per timed loop (slow systems answer fewer queries)


def system(name: str, path: Path, dim: int = 384) -> Any:
    return importlib.import_module(f"peers.systems.{name}").System(path, dim)


def exact(corpus: Corpus, query: np.ndarray, category: str | None = None) -> list[int]:
    scores = corpus.vectors @ query
    if category is not None:
        scores = np.where(np.asarray(corpus.categories) == category, scores, -np.inf)
    return list(np.argsort(-scores)[:K])


def recall(found: list[str], truth: list[int]) -> float:
    return len({int(f.rsplit("-", 1)[1]) for f in found} & set(truth)) / K


def timed(fn: Any, items: list[Any], budget: float = BUDGET) -> tuple[list[float], list[Any]]:
    times, outs, start = [], [], time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        outs.append(fn(item))
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget and len(times) >= 10:
            break
    return times, outs


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run(name: str, path: Path, n: int) -> dict[str, Any]:
    corpus = ensure(n, verbose=False)
    rows = [corpus.row(i) for i in range(n)]
    sys_ = system(name, path)
    out: dict[str, Any] = {"system": sys_.name, "n": n, "index": sys_.index_note}
    t0 = time.perf_counter()
    sys_.create_and_load(rows, corpus.vectors)
    loaded = time.perf_counter()
    out["load_rows_s"] = n / (loaded - t0)
    # until a search for the last loaded row's own vector finds it (the index caught up with the load)
    last = corpus.ids[-1]
    while last not in sys_.search(corpus.vectors[-1]) and time.perf_counter() - loaded < 600:
        time.sleep(0.01)
    out["first_correct_s"] = time.perf_counter() - loaded
    sys_.wait_indexed()  # REM builds its graph after the load returns (searches meanwhile are exact)
    out["indexed_rows_s"] = n / (time.perf_counter() - t0)
    queries = list(corpus.queries)
    for q in queries[:5]:
        sys_.search(q)
    times, found = timed(sys_.search, queries)
    out["search_p50_ms"] = statistics.median(times) * 1e3
    out["recall"] = statistics.mean(recall(f, exact(corpus, q)) for f, q in zip(found, queries, strict=False))
    first = [(queries[i], CATEGORIES[i]) for i in range(len(CATEGORIES))]
    times, found = timed(lambda qc: sys_.search(qc[0], category=qc[1]), first, budget=60)
    out["filter_first_p50_ms"] = statistics.median(times) * 1e3
    cached = [(queries[i], CATEGORIES[i % len(CATEGORIES)]) for i in range(len(CATEGORIES), len(queries))]
    times, found = timed(lambda qc: sys_.search(qc[0], category=qc[1]), cached)
    out["filter_p50_ms"] = statistics.median(times) * 1e3
    out["filter_recall"] = statistics.mean(recall(f, exact(corpus, q, c))
                                           for f, (q, c) in zip(found, cached, strict=False))
    rng = np.random.default_rng(5)
    ids = [corpus.ids[i] for i in rng.integers(0, n, 1000)]
    times, got = timed(sys_.get, ids, budget=5)
    assert all(g["id"] == i or g.get("doc_id") == i for g, i in zip(got, ids, strict=False)), "get returned wrong rows"
    out["get_p50_us"] = statistics.median(times) * 1e6
    new = [({"id": f"doc-{n + j}", "body": "A new row.", "category": CATEGORIES[j % 10], "year": 2025},
            corpus.queries[j]) for j in range(200)]
    times, _ = timed(lambda rv: sys_.insert(*rv), new, budget=10)
    out["insert_p50_us"] = statistics.median(times) * 1e6
    sys_.close()
    out["disk_bytes"] = du(path)
    reopen = subprocess.run([sys.executable, __file__, name, str(path), "--n", str(n), "--reopen"],
                            capture_output=True, text=True, check=True)
    out["reopen_s"] = json.loads(reopen.stdout.strip().splitlines()[-1])["reopen_s"]
    return out


def reopen(name: str, path: Path) -> dict[str, Any]:
    query = np.load(HERE / "data" / "part000.npy", mmap_mode="r")[0].copy()
    sys_ = system(name, path)
    t0 = time.perf_counter()
    sys_.open()
    found = sys_.search(query)
    took = time.perf_counter() - t0
    if "doc-0" not in found:
        raise SystemExit(f"{name}: the first search after reopening did not find doc-0: {found}")
    sys_.close()
    return {"reopen_s": took}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system")
    parser.add_argument("path", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reopen", action="store_true")
    args = parser.parse_args()
    result = reopen(args.system, args.path) if args.reopen else run(args.system, args.path, args.n)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
