"""A dataset of real MiniLM vectors for the 1M search bench: 1,000,200 distinct generated English sentences
(subject, verb, object, time, reason from fixed lists; seeded), embedded by the local model in parts of
20,000 saved as ``partNNN.npy`` in a cache directory, so an interrupted run resumes. The first ``n`` vectors
are the table, the last 200 the queries (never stored).

    python bench/real_sentences.py DIR      # embed what is missing (about 30 min on 2 quiet cores)
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np


def _options(text: str) -> list[str]:
    return text.split("|")


SUBJ = _options(
    "the board|our lender|a tenant|the fund|the city council|an investor|the operator|a developer|the auditor|"
    "the utility|our partner|the hotel manager|the plant engineer|a neighbour|the architect|the sales team|"
    "the insurer|a contractor|the landlord|the regulator|the chef|a nurse|the pilot|a farmer|the teacher|"
    "a student|the museum|the bakery|a cyclist|the orchestra")
VERB = _options(
    "approved|questioned|delayed|financed|inspected|rejected|renovated|expanded|sold|leased|audited|insured|"
    "cleaned|painted|designed|cancelled|postponed|celebrated|measured|repaired|photographed|moved|priced|"
    "reviewed|replaced|planted|cooked|visited|recorded|shipped")
OBJ = _options(
    "the solar farm|a data center|the warehouse roof|the wind turbines|a senior living campus|the office park|"
    "the hydrogen tanks|a battery array|the hotel lobby|the loan terms|the quarterly forecast|a water pipeline|"
    "the parking garage|the grid connection|a bakery oven|the school garden|the concert hall|a fishing boat|"
    "the vineyard|the hospital wing|a mountain trail|the train station|the football pitch|a library extension|"
    "the greenhouse|the bridge deck|a cargo ship|the server racks|the rooftop bar|a coffee roaster")
WHEN = _options(
    "last spring|in March|after the storm|before the audit|this quarter|during the heatwave|at night|"
    "over the weekend|in 2024|next year|after a long debate|without notice|ahead of schedule|despite the costs|"
    "for the second time")
WHY = _options(
    "to cut costs|because demand grew|after complaints|to meet the new code|for the investors|to save energy|"
    "because of rising rates|to attract tenants|for safety reasons|to please the guests|because the old one "
    "failed|to win the contract|as planned|on the mayor's request|to reduce noise")
TOTAL = 1_000_200
QUERIES = 200
PART = 20_000


def sentences(n: int = TOTAL, seed: int = 42) -> list[str]:
    """``n`` distinct sentences (there are 30 x 30 x 30 x 15 x 15 = 6,075,000 to draw from)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        s = (f"{rng.choice(SUBJ).capitalize()} {rng.choice(VERB)} {rng.choice(OBJ)} {rng.choice(WHEN)} "
             f"{rng.choice(WHY)}.")
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def embed_missing(directory: Path) -> None:
    """Embed every part not yet in ``directory`` (int8 local model), printing the rate per part."""
    from rem_db.embeddings.local import LocalMiniLM

    directory.mkdir(parents=True, exist_ok=True)
    texts = sentences()
    provider = LocalMiniLM(precision="int8")
    for n, start in enumerate(range(0, TOTAL, PART)):
        target = directory / f"part{n:03d}.npy"
        if target.exists():
            continue
        t0 = time.perf_counter()
        vectors = provider.embed_batch(texts[start:start + PART])
        np.save(target, vectors)
        print(f"part {n}: {len(vectors) / (time.perf_counter() - t0):.0f} texts/s", flush=True)


def load(directory: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(the first ``n`` vectors, the 200 query vectors); every part must be there."""
    parts = sorted(directory.glob("part*.npy"))
    expected = -(-TOTAL // PART)
    if len(parts) != expected:
        raise SystemExit(f"{directory} holds {len(parts)} of {expected} parts: run python bench/real_sentences.py "
                         f"{directory} first")
    vectors = np.concatenate([np.load(p) for p in parts])
    return vectors[:n], vectors[TOTAL - QUERIES:]


if __name__ == "__main__":
    embed_missing(Path(sys.argv[1]))
