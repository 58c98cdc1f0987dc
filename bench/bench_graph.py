"""Graph benchmarks (SPEC §16, issue 5): a graph of 100k nodes with fan-out 10 (1M edges).

Bars: 3-hop traversal from one start (about 1,110 nodes) p50 < 2 ms; shortest path at distance 4 p50 < 5 ms;
adding 100k edges in batches of 1,000 < 2 s. networkx's time for the same traversal is printed beside ours.

Run: ``python bench/bench_graph.py [--nodes 100000] [--fanout 10] [--runs 5] [--path DIR]``. The graph is
built through the public API (``insert_batch`` for the nodes, ``add_edges`` in batches of 1,000 for the
edges: each batch gives 100 nodes their 10 out-edges) in a temporary directory, or in ``--path`` where it
is kept and reused by later runs. Each bar prints the median of ``--runs`` runs; a run's figure is a p50
over many repetitions (traversal, shortest path) or one timed operation (adding 100k edges: the time spent
in the ``add_edges`` calls, not in drawing the random destinations).

Traversal figures:
* ``traverse`` — ``Database.traverse(start, depth=3)``: the walk plus reading and decoding every reached
  entity (each node's ``edges`` field lists its 10 edges, ~1.4 KB of JSON);
* ``walk`` — ``db.graph.traverse_ids(start, depth=3)``: the same walk with depth and path per node, soft-deleted
  nodes skipped, without reading the entities;
* ``networkx`` — ``nx.single_source_shortest_path(G, start, cutoff=3)`` on an in-memory ``DiGraph`` holding
  the same edges (ids, depths via the path lengths, and paths: what ``walk`` returns).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rem_db import Database

NODE = {
    "title": "node",
    "description": "Benchmark graph nodes.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "group": {"type": "integer"}},
    "required": ["name"],
    "key_field": "name",
}
BATCH = 1000


def name(n: int) -> str:
    return f"node-{n:07d}"


def out_edges(n: int, nodes: int, fanout: int) -> list[int]:
    """The fixed random destinations of node ``n`` (distinct, may include ``n`` itself: a self-loop)."""
    return random.Random(n).sample(range(nodes), fanout)


def node_ids(db: Database, nodes: int) -> list[str]:
    found = db.lookup_batch([name(i) for i in range(nodes)])
    return [found[name(i)][0]["id"] for i in range(nodes)]


def build(db: Database, nodes: int, fanout: int) -> list[float]:
    """Insert the nodes, then the edges in batches of 1,000. Returns the seconds per 100k edges."""
    db.register_schema(NODE)
    for start in range(0, nodes, BATCH):
        db.insert_batch("node", [{"name": name(i), "group": i % 17} for i in range(start, min(nodes, start + BATCH))])
    ids = node_ids(db, nodes)
    per_chunk, spent, added = [], 0.0, 0
    per_batch = BATCH // fanout
    for start in range(0, nodes, per_batch):
        batch = [(ids[i], ids[d], "link") for i in range(start, min(nodes, start + per_batch))
                 for d in out_edges(i, nodes, fanout)]
        t0 = time.perf_counter()  # only the add_edges calls are timed, not drawing the random destinations
        db.add_edges(batch)
        spent += time.perf_counter() - t0
        added += len(batch)
        if added % 100_000 == 0:
            per_chunk.append(spent)
            spent = 0.0
    return per_chunk


def settle(db: Database) -> None:
    """Compact every column family after the bulk load (what RocksDB's background compaction does in
    steady state), so reads are not measured against a pile of fresh L0 files and memtables."""
    t0 = time.perf_counter()
    for cf in db._store.cfs.values():
        cf.compact_range(None, None)
    print(f"compacted in {time.perf_counter() - t0:.1f} s")


def median_run(fn, runs: int) -> tuple[float, list[float]]:
    figures = [fn(r) for r in range(runs)]
    return statistics.median(figures), figures


def p50_ms(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e3


def nx_graph(ids: list[str], nodes: int, fanout: int):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(ids)
    g.add_edges_from((ids[i], ids[d]) for i in range(nodes) for d in out_edges(i, nodes, fanout))
    return g


def pairs_at_distance(db: Database, starts: list[str], distance: int) -> list[tuple[str, str]]:
    """(start, a node at exactly ``distance`` hops in either direction) for each start that has one."""
    out = []
    for s in starts:
        far = sorted(r["id"] for r in db.graph.traverse_ids(s, depth=distance, direction="both")
                     if r["depth"] == distance)
        if far:
            out.append((s, random.Random(s).choice(far)))
    return out


def report(rows, runs: int) -> None:
    for label, bar, fn in rows:
        med, figures = median_run(fn, runs)
        print(f"{label}: {med:.3f} ms  [bar {bar}]  runs: {', '.join(f'{f:.3f}' for f in figures)}")


def add_random_edges(db: Database, ids: list[str], run: int) -> float:
    """100k edges between random nodes (every edge rewrites a different source), batches of 1,000."""
    rng = random.Random(1000 + run)
    batches = [[(rng.choice(ids), rng.choice(ids), f"extra-{run}") for _ in range(BATCH)] for _ in range(100)]
    t0 = time.perf_counter()
    for batch in batches:
        db.add_edges(batch)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--fanout", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200, help="operations per run for the p50 figures")
    parser.add_argument("--path", type=Path, help="keep the built graph here and reuse it on later runs")
    parser.add_argument("--skip-random-adds", action="store_true",
                        help="do not run the random-source edge adds (they grow the graph)")
    args = parser.parse_args()
    tmp = None
    if args.path is None:
        tmp = tempfile.TemporaryDirectory(prefix="rem-bench-graph-")
        path = Path(tmp.name) / "db"
    else:
        path = args.path
    print(f"load: {os.getloadavg()[0]:.2f} (1 min)  nodes {args.nodes:,}  fan-out {args.fanout}")
    with Database(path) as db:
        fresh = db.schemas.find("node") is None
        if fresh:
            t0 = time.perf_counter()
            chunks = build(db, args.nodes, args.fanout)
            print(f"built in {time.perf_counter() - t0:.1f} s")
            settle(db)
    with Database(path) as db:  # measured on a reopened database, as an application would query it
        ids = node_ids(db, args.nodes)
        rng = random.Random(7)
        starts = [ids[rng.randrange(args.nodes)] for _ in range(args.runs)]
        reached = [len(db.graph.traverse_ids(s, depth=3)) for s in starts]
        print(f"3-hop starts reach {reached} nodes")
        pairs = pairs_at_distance(db, [ids[rng.randrange(args.nodes)] for _ in range(50)], 4)

        def rotated(run: int) -> list[tuple[str, str]]:
            k = run * 7 % len(pairs)
            return pairs[k:] + pairs[:k]

        def over_pairs(run: int, fn) -> float:
            samples = []
            for _ in range(max(1, args.repeats // len(pairs))):
                for a, b in rotated(run):
                    t0 = time.perf_counter()
                    fn(a, b)
                    samples.append(time.perf_counter() - t0)
            return statistics.median(samples) * 1e3

        def shortest(a: str, b: str) -> None:
            found = db.shortest_path(a, b)
            assert found is not None and found["length"] == 4, found

        ours = [
            ("3-hop traversal, walk: db.graph.traverse_ids (ids, depth, path) p50", "< 2 ms",
             lambda run: p50_ms(lambda: db.graph.traverse_ids(starts[run], depth=3), args.repeats)),
            ("3-hop traversal, Database.traverse (with the entities) p50", "(reference: the walk + 1,100 entities)",
             lambda run: p50_ms(lambda: db.traverse(starts[run], depth=3), args.repeats)),
            (f"shortest path at distance 4 (direction both, {len(pairs)} pairs) p50", "< 5 ms",
             lambda run: over_pairs(run, shortest)),
        ]
        report(ours, args.runs)

        # networkx after ours: its graphs are millions of live objects, which the cyclic GC would walk on
        # every collection the timed code triggers (2-3x slower walks). Frozen out of the GC for its figures.
        import networkx as nx

        g = nx_graph(ids, args.nodes, args.fanout)
        und = g.to_undirected()
        gc.collect()
        gc.freeze()
        theirs = [
            ("3-hop traversal, networkx single_source_shortest_path p50", "(reference)",
             lambda run: p50_ms(lambda: nx.single_source_shortest_path(g, starts[run], cutoff=3), args.repeats)),
            ("shortest path at distance 4, networkx bidirectional_shortest_path p50", "(reference)",
             lambda run: over_pairs(run, lambda a, b: nx.bidirectional_shortest_path(und, a, b))),
        ]
        report(theirs, args.runs)
        if fresh and chunks:
            print(f"adding 100k edges (fan-out load, batches of 1,000): {statistics.median(chunks):.2f} s  "
                  f"[bar < 2 s]  per 100k: {', '.join(f'{c:.2f}' for c in chunks)}")
    if not args.skip_random_adds:  # on a copy, so the graph stays as built for later runs with --path
        with tempfile.TemporaryDirectory(prefix="rem-bench-graph-adds-") as scratch:
            copy = Path(scratch) / "db"
            shutil.copytree(path, copy)
            with Database(copy) as db:
                med, figures = median_run(lambda r: add_random_edges(db, ids, r), 1)  # ~10-15 s a run
        print(f"adding 100k edges (random sources, batches of 1,000): {med:.2f} s  [no bar]  "
              f"runs: {', '.join(f'{f:.2f}' for f in figures)}")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) at the end")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
