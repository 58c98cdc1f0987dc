"""Memory and speed of ingesting one large file (issue 18 item 4): does memory stay bounded while a 200 MB
Markdown file streams in, and how fast does the non-embedding part of the pipeline go?

    python bench/bench_ingest_memory.py                     # a generated 200 MB Markdown file
    python bench/bench_ingest_memory.py --mb 20             # a quicker run
    python bench/bench_ingest_memory.py --src OTHER/src     # the same run on another tree (before/after)
    python bench/bench_ingest_memory.py --no-vectors        # chunks into a table without embedding fields

The file is generated deterministically (bench_ingest.markdown_file, 1 MB sections). The ingest runs in a
child process (so ``ru_maxrss`` is its own peak) into a fresh database, embedding with a bag-of-words
hashing provider registered by the child (``benchhash:<dims>``, 384 dimensions like the local model): the
local model would take hours on ~240,000 chunks, and the figure wanted is the pipeline's own memory.
A thread samples the child's RSS every 0.5 s with the chunks committed so far; the report gives the peak
(and its anonymous part: the heap, without mapped files), the peak at each quarter of the file, and, for
reference, the RSS of a fresh process that opens the finished database and loads its vector index (the
memory the table itself needs, ingest or not). ``--no-vectors`` leaves vectors, BM25 postings and the
vector index out, so what remains is the pipeline and RocksDB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PREFIX = "benchhash"
HNSW_BYTES_PER_LINK = 4
HNSW_LINKS = 32  # level-0 links per node (M = 16)


def write_file(path: Path, megabytes: float, seed: int = 18) -> int:
    """A Markdown file of ``megabytes`` MB: sections of ~1 MB from bench_ingest's generator."""
    sys.path.insert(0, str(HERE))
    from bench_ingest import markdown_file

    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        part = 0
        while written < megabytes * 1024 * 1024:
            text = markdown_file(rng, 1024 * 1024, f"Part {part}") + "\n"
            handle.write(text)
            written += len(text.encode("utf-8"))
            part += 1
    return written


def _rss_mb() -> tuple[float, float]:
    """(resident MB, of which anonymous MB: the heap, without file pages such as a memory-mapped index file)."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                found[name] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("RssAnon", 0.0)


def _register(dims: int) -> None:
    """Make ``benchhash:<dims>`` the default embedding provider of this process."""
    import hashlib

    import numpy as np

    from rem_db.embeddings.registry import register_provider

    class HashingProvider:
        def __init__(self, model: str) -> None:
            self.spec, self.dimensions = f"{PREFIX}:{model}", int(model)

        def embed_batch(self, texts: list[str]) -> Any:
            out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
            for row, text in enumerate(texts):
                for word in text.lower().split():
                    digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                    out[row, int.from_bytes(digest, "big") % self.dimensions] += 1.0
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            return out / np.maximum(norms, 1e-12)

    register_provider(PREFIX, lambda model, settings: HashingProvider(model), replace=True)
    os.environ["P8_DEFAULT_EMBEDDING"] = f"{PREFIX}:{dims}"


def child(db_path: Path, file: Path, dims: int, batch_chunks: int | None, vectors: bool) -> None:
    """The measured process: register the hashing provider, ingest ``file``, print a JSON report."""
    from rem_db import Database
    from rem_db.ingest import IngestOptions, Ingestor

    _register(dims)
    samples: list[tuple[float, int, float, float]] = []
    done = threading.Event()
    state = {"chunks": 0}

    def sample() -> None:
        start = time.perf_counter()
        while not done.is_set():
            samples.append((time.perf_counter() - start, state["chunks"], *_rss_mb()))
            done.wait(0.5)

    def progress(st: Any) -> None:
        state["chunks"] = st.chunks_written

    db = Database(db_path)
    table = "resources"
    if not vectors:
        from rem_db.schema.templates import template_schema

        table, schema = "chunks", template_schema("resources", "chunks")
        schema["embedding_fields"] = []
        db.register_schema(schema)
    opened = _rss_mb()[0]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    options = IngestOptions(schema=table, **({"batch_chunks": batch_chunks} if batch_chunks else {}))
    report = Ingestor(db._core.ingest_sources(), options, progress).run(file)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done.set()
    sampler.join()
    result = report.files[0]
    db.wait_idle()
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "chunks": result.chunks, "status": result.status,
                      "opened_mb": opened, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "samples": samples}))
    db.close()


def at_rest(db_path: Path, dims: int) -> None:
    """Open the finished database, load its vector index (one search), print the RSS."""
    from rem_db import Database

    _register(dims)
    with Database(db_path) as db:
        if db.get_schema("resources") and db.count("resources"):
            db.search("pump station", schema="resources", top_k=5)
        print(json.dumps({"rss_mb": _rss_mb()[0]}))


def measure(src: Path | None, args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a child (on the tree ``src``); its last line of JSON."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(run: dict[str, Any], size: int, dims: int, rest: float) -> list[str]:
    chunks, samples = run["chunks"], run["samples"]
    peak = max((rss for _, _, rss, _ in samples), default=0.0)
    anon = max((heap for _, _, _, heap in samples), default=0.0)
    index_mb = chunks * (dims * 4 + HNSW_LINKS * HNSW_BYTES_PER_LINK) / 1e6
    index = (f"; the table's vector index is ~{index_mb:.0f} MB of it ({chunks:,} x {dims}-d float32 + graph "
             f"links)") if dims else " (no vectors)"
    lines = [f"ingest: {chunks:,} chunks ({run['status']}) from {size / 1e6:.0f} MB in {run['seconds']:.0f} s "
             f"({size / 1e6 / run['seconds']:.2f} MB/s, {chunks / run['seconds']:.0f} chunks/s; CPU time of all "
             f"threads {run['cpu_seconds']:.0f} s)",
             f"RSS after open: {run['opened_mb']:.0f} MB; peak while ingesting: {peak:.0f} MB (ru_maxrss "
             f"{run['maxrss_mb']:.0f} MB), anonymous (heap) {anon:.0f} MB{index}",
             f"the finished database opened in a fresh process{', vector index loaded' if dims else ''}: "
             f"{rest:.0f} MB"]
    for quarter in (1, 2, 3, 4):
        want = chunks * quarter / 4
        rss = max((r for _, done, r, _ in samples if done <= want), default=0.0)
        heap = max((h for _, done, _, h in samples if done <= want), default=0.0)
        lines.append(f"  up to {quarter * 25:3d} % of the chunks: peak RSS {rss:.0f} MB, anonymous {heap:.0f} MB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=200.0, help="file size in MB (default 200)")
    parser.add_argument("--dims", type=int, default=384, help="vector dimensions of the hashing provider")
    parser.add_argument("--batch-chunks", type=int, help="chunks per part (default: the pipeline's, 2,048)")
    parser.add_argument("--src", type=Path, help="the src directory of the tree to measure (default: this one)")
    parser.add_argument("--no-vectors", action="store_true", help="a chunk table without embedding fields")
    parser.add_argument("--keep", type=Path, help="write the file and the database here (kept)")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--at-rest", type=Path, metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.dims, args.batch_chunks, not args.no_vectors)
        return
    if args.at_rest:
        at_rest(args.at_rest, args.dims)
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="rem-bench-ingest-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    file, db_path = work / "large.md", work / "db"
    try:
        if not file.exists() or abs(file.stat().st_size - args.mb * 1024 * 1024) > 2 * 1024 * 1024:
            write_file(file, args.mb)
        size = file.stat().st_size
        print(f"file: {file} ({size / 1e6:.1f} MB of generated Markdown)", flush=True)
        shutil.rmtree(db_path, ignore_errors=True)
        child_args = ["--child", str(db_path), str(file), "--dims", str(args.dims)]
        child_args += ["--batch-chunks", str(args.batch_chunks)] if args.batch_chunks else []
        child_args += ["--no-vectors"] if args.no_vectors else []
        run = measure(args.src, child_args)
        rest = measure(args.src, ["--at-rest", str(db_path), "--dims", str(args.dims)])["rss_mb"]
        print("\n".join(summary(run, size, args.dims if not args.no_vectors else 0, rest)))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
