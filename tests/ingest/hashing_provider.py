"""A deterministic bag-of-words embedding provider for the ingest crash tests: no model to load, so a child
process starts and embeds at once. :func:`register` makes ``ingesthash:<dimensions>`` specs resolve to it (in the
test process, for the time of a test, and in the children it starts); :func:`embedded` counts the texts it
embedded."""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np

from rem_db.embeddings.interface import normalise
from rem_db.embeddings.registry import register_provider, unregister_provider

PREFIX = "ingesthash"
SPEC = f"{PREFIX}:64"
DELAY_VARIABLE = "INGEST_TEST_EMBED_DELAY"  # seconds each call sleeps (a child being killed mid-ingest)
_embedded: list[int] = [0]


class HashingProvider:
    """Each word adds one to the dimension its hash picks; rows are L2-normalised."""

    def __init__(self, model: str) -> None:
        self.spec = f"{PREFIX}:{model}"
        self.dimensions = int(model)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        delay = float(os.environ.get(DELAY_VARIABLE) or 0)
        if delay:
            time.sleep(delay)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest()) % self.dimensions] += 1
        _embedded[0] += len(texts)
        return normalise(out)


def embedded() -> int:
    """Texts embedded by this process so far."""
    return _embedded[0]



def register() -> None:
    register_provider(PREFIX, _create, replace=True)


def unregister() -> None:
    unregister_provider(PREFIX)


def _create(model: str, settings: object) -> HashingProvider:
    return HashingProvider(model)
