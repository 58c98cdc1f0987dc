"""A second ANN backend for the contract tests (imported as ``exact_ann``): REM's own exact index
(:class:`rem_db.index.exact.ExactIndex`, the stand-in during rebuilds) made persistent in one ``.npz`` file.
It keeps the contract honest: the suite must pass for any correct backend, not just for hnswlib's quirks.
One module, one registration line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rem_db.index.ann import CorruptIndex, StoredVectors, register_ann
from rem_db.index.exact import ExactIndex


class SavedExactIndex(ExactIndex):
    """:class:`ExactIndex` with ``save`` / ``load``."""

    def save(self, base: Path) -> None:
        base.parent.mkdir(parents=True, exist_ok=True)
        rows = self.matrix[:len(self.ids)]
        ids = np.frombuffer(b"".join(i or b"\0" * 16 for i in self.ids), dtype=np.uint8).reshape(-1, 16)
        live = np.array([i is not None for i in self.ids], dtype=bool)
        tmp = base.with_name(base.name + ".tmp.npz")
        np.savez(tmp, matrix=rows, ids=ids, live=live, seq=np.array([self.seq, self.dimensions]))
        os.replace(tmp, base.with_name(base.name + ".npz"))

    @classmethod
    def load(cls, base: Path, dimensions: int, stored: StoredVectors | None = None) -> SavedExactIndex:
        # the file holds the vectors: ``stored`` is not needed
        try:
            with np.load(base.with_name(base.name + ".npz")) as saved:
                matrix, ids, live, (seq, dims) = saved["matrix"], saved["ids"], saved["live"], saved["seq"]
        except Exception as exc:
            raise CorruptIndex(f"{base}: {type(exc).__name__}: {exc}") from None
        if dims != dimensions or matrix.shape != (len(ids), dimensions) or len(live) != len(ids):
            raise CorruptIndex(f"{base}: dimension or size mismatch")
        index = cls(dimensions, len(ids))
        index.matrix[:len(ids)] = matrix
        index.restore([bytes(r) if ok else None for r, ok in zip(ids, live, strict=True)])
        index.seq = int(seq)
        return index


register_ann("exact", create=SavedExactIndex, load=SavedExactIndex.load, files=(".npz",))
