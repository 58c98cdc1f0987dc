"""The peers benchmark's corpus: seeded ~37-word English texts (three sentences from the word lists of
``bench/real_sentences.py``), a 10-value ``category`` and a ``year``, embedded once by REM's local model
(``local:all-MiniLM-L6-v2``, the default provider, in batches) and cached as a float32 matrix under
``bench/peers/data/`` (gitignored). The first ``n`` rows are the table; ``QUERIES`` more texts, drawn after
them from the same generator, are the queries (never stored).

    python bench/peers/corpus.py --n 100000     # embed what is missing (resumes by part)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from real_sentences import OBJ, SUBJ, VERB, WHEN, WHY

DATA = Path(__file__).resolve().parent / "data"
CATEGORIES = ("energy", "finance", "housing", "food", "health", "transport", "culture", "education", "retail",
              "industry")
YEARS = (2000, 2025)  # year drawn uniformly from [2000, 2025)
QUERIES = 200
PART = 10_000
SEED = 20


@dataclass
class Corpus:
    """``n`` rows (ids ``doc-0`` ...), their unit vectors and the held-out query vectors."""

    ids: list[str]
    texts: list[str]
    categories: list[str]
    years: list[int]
    vectors: np.ndarray  # (n, 384) float32, unit length
    queries: np.ndarray  # (QUERIES, 384) float32

    def row(self, i: int) -> dict[str, object]:
        """Row ``i`` as a plain dict (id, body, category, year)."""
        return {"id": self.ids[i], "body": self.texts[i], "category": self.categories[i], "year": self.years[i]}


def _sentence(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJ).capitalize()} {rng.choice(VERB)} {rng.choice(OBJ)} {rng.choice(WHEN)} "
            f"{rng.choice(WHY)}.")


def texts(total: int, seed: int = SEED) -> list[str]:
    """``total`` distinct texts of three sentences each (about 37 words)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < total:
        t = " ".join(_sentence(rng) for _ in range(3))
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def metadata(n: int, seed: int = SEED) -> tuple[list[str], list[int]]:
    """Seeded ``category`` (uniform over 10 values: one value selects 10 %) and ``year`` per row."""
    rng = random.Random(seed + 1)
    return [rng.choice(CATEGORIES) for _ in range(n)], [rng.randrange(*YEARS) for _ in range(n)]


def _embed_part(provider: object, chunk: list[str]) -> np.ndarray:
    out = []
    for start in range(0, len(chunk), 500):
        out.append(provider.embed_batch(chunk[start:start + 500]))  # type: ignore[attr-defined]
    return np.vstack(out).astype(np.float32)


def ensure(n: int, directory: Path = DATA, verbose: bool = True) -> Corpus:
    """The corpus of ``n`` rows, embedding (and caching) whatever part of it is not cached yet. Parts are
    ``PART`` texts of the one seeded sequence, so a 100k cache is the start of a 1M one; the queries come from
    a second seed (a repeat of a table text is as good as impossible: 3 of 6,075,000 sentences each)."""
    from rem_db.embeddings import EmbeddingProviders

    directory.mkdir(parents=True, exist_ok=True)
    all_texts = texts(n)
    provider = EmbeddingProviders.from_env().get(None)
    parts = []
    for k, start in enumerate(range(0, n, PART)):
        target = directory / f"part{k:03d}.npy"
        if not target.exists():
            t0 = time.perf_counter()
            vectors = _embed_part(provider, all_texts[start:start + PART])
            np.save(target, vectors)
            if verbose:
                print(f"embedded part {k} ({len(vectors) / (time.perf_counter() - t0):.0f} texts/s)", flush=True)
        parts.append(np.load(target))
    qpath = directory / "queries.npy"
    if not qpath.exists():
        np.save(qpath, _embed_part(provider, texts(QUERIES, seed=SEED + 7)))
    vectors = np.ascontiguousarray(np.concatenate(parts)[:n], dtype=np.float32)
    categories, years = metadata(n)
    return Corpus([f"doc-{i}" for i in range(n)], all_texts[:n], categories, years, vectors, np.load(qpath))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    corpus = ensure(parser.parse_args().n)
    words = sum(len(t.split()) for t in corpus.texts[:1000]) / 1000
    print(f"{len(corpus.ids)} rows, {corpus.vectors.shape}, {words:.0f} words per text on average")


if __name__ == "__main__":
    main()
