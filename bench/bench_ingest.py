"""Ingest benchmark (issue 6, SPEC §8): is text ingest bounded by embedding speed?

    python bench/bench_ingest.py                 # a 5 MB Markdown corpus (50 files of ~100 KB), one run
    python bench/bench_ingest.py --mb 0.5        # a quick run
    python bench/bench_ingest.py --keep DIR      # write the corpus (and the database) under DIR

The corpus is generated deterministically (seeded): Markdown files with nested headings, paragraphs of
varied length, bullet lists, tables and code blocks, from a business vocabulary. One ``Database.ingest`` of
the directory is timed, with a timer inside the embedding provider (``embed_batch``): the bar is that
everything else — detection, hashing, reading, chunking (tokenizer included), validation, storage, indexes —
takes at most 10 % of the total. A second ingest of the unchanged corpus (all no-ops) and a read+chunk pass
without a database are timed too.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rem_db import Database

SPEC = "local:all-MiniLM-L6-v2"
_VOCABULARY = (
    "energy storage hydrogen market board memo revenue growth plant water light data center campus power wind "
    "turbine fund capital investment partner term sheet office park hotel senior living warehouse industrial "
    "quarter forecast pipeline lender tenant lease yield margin cost grid battery solar the a of and to in for "
    "with on by is are was were be has have will would could should may project site contract operator budget "
    "schedule risk mitigation covenant refinance equity debt coverage ratio occupancy appraisal valuation cap "
    "rate sponsor committee approval diligence review draft final summary outlook pricing supply demand"
)
WORDS = tuple(_VOCABULARY.split(" "))


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 24))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), f"{rng.uniform(0, 100):.1f} %")
    return " ".join(words).capitalize() + rng.choice(".....?!")


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(1, 9)))


def markdown_file(rng: random.Random, size: int, title: str) -> str:
    parts = [f"# {title}\n"]
    written = 0
    while written < size:
        kind = rng.random()
        if kind < 0.08:
            part = f"{'#' * rng.randint(2, 4)} {sentence(rng).rstrip('.?!')}\n"
        elif kind < 0.16:
            part = "".join(f"- {sentence(rng)}\n" for _ in range(rng.randint(2, 6)))
        elif kind < 0.21:
            rows = [f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.choice(WORDS)} |"
                    for _ in range(rng.randint(3, 10))]
            part = "| item | value | note |\n|---|---|---|\n" + "\n".join(rows) + "\n"
        elif kind < 0.24:
            part = "```python\n" + "\n".join(f"total_{n} = compute({rng.randint(1, 99)})"
                                             for n in range(rng.randint(2, 8))) + "\n```\n"
        else:
            part = paragraph(rng) + "\n"
        parts.append(part)
        written += len(part) + 1
    return "\n".join(parts)


def write_corpus(root: Path, megabytes: float, files: int, seed: int = 6) -> tuple[int, int]:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    per_file = int(megabytes * 1024 * 1024 / files)
    total = 0
    for n in range(files):
        text = markdown_file(rng, per_file, f"Report {n:03d}: {sentence(rng).rstrip('.?!')}")
        (root / f"report-{n:03d}.md").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return files, total


class EmbedTimer:
    """Wraps the provider's ``embed_batch`` to add up the time spent inside it."""

    def __init__(self) -> None:
        from rem_db.embeddings import EmbeddingProviders

        self.provider = EmbeddingProviders.from_env().get(SPEC)
        self.original = self.provider.embed_batch
        self.seconds = 0.0
        self.texts = 0
        self.calls = 0
        self.provider.embed_batch = self._timed

    def _timed(self, texts: list[str]) -> Any:
        start = time.perf_counter()
        try:
            return self.original(texts)
        finally:
            self.seconds += time.perf_counter() - start
            self.texts += len(texts)
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=5.0, help="corpus size in MB (default 5)")
    parser.add_argument("--files", type=int, default=50, help="number of Markdown files (default 50)")
    parser.add_argument("--keep", type=Path, help="write the corpus and database here (kept)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="rem-bench-ingest-"))
    corpus, db_path = work / "corpus", work / "db"
    shutil.rmtree(db_path, ignore_errors=True)
    files, size = write_corpus(corpus, args.mb, args.files)
    print(f"corpus: {files} Markdown files, {size / 1e6:.2f} MB in {corpus}", flush=True)

    from rem_db.ingest import iter_chunks

    start = time.perf_counter()
    chunk_count = sum(1 for path in sorted(corpus.glob("*.md")) for _ in iter_chunks(path))
    chunk_only = time.perf_counter() - start
    print(f"read + chunk only (no database): {chunk_count} chunks in {chunk_only:.2f} s "
          f"({size / 1e6 / chunk_only:.2f} MB/s)", flush=True)

    timer = EmbedTimer()
    timer.provider.embed_batch(["warm up the model"])  # model load is not ingest work
    timer.seconds = timer.texts = timer.calls = 0
    try:
        with Database(db_path) as db:
            start = time.perf_counter()
            report = db.ingest(corpus)
            total = time.perf_counter() - start
            start = time.perf_counter()
            again = db.ingest(corpus)
            noop = time.perf_counter() - start
            # iter_chunks chunks the text alone; ingest reserves room for each chunk's context header
            assert not report.failed and report.chunks >= chunk_count, report.summary()
            assert len(again.unchanged) == files
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    rest = total - timer.seconds
    share = rest / total
    print(f"ingest: {report.chunks} chunks from {files} files in {total:.1f} s "
          f"({report.chunks / total:.1f} chunks/s, {size / 1e6 / total:.3f} MB/s)")
    print(f"  embedding provider: {timer.seconds:.1f} s ({timer.texts} texts in {timer.calls} calls, "
          f"{timer.texts / max(timer.seconds, 1e-9):.1f} texts/s)")
    print(f"  everything else (detect, hash, read, chunk, validate, store, index): {rest:.2f} s "
          f"= {share:.1%} of the total (bar: <= 10 %) -> {'PASS' if share <= 0.10 else 'FAIL'}")
    print(f"re-ingest of the unchanged corpus: {noop * 1000:.0f} ms for {files} files")
    sys.exit(0 if share <= 0.10 else 1)


if __name__ == "__main__":
    main()
