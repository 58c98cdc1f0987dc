"""The write-ahead log of committed changes (SPEC §9): gapless sequence numbers, written in the same
atomic batch as the change they describe."""

from __future__ import annotations

from typing import Any

import orjson

from ..storage.codec import encode_u64
from ..storage.store import Batch, Store

CF = "wal"


class WalWriter:
    """Allocates sequence numbers and appends records to a batch.

    Callers hold the database's write lock; :meth:`committed` advances the counter only after the batch
    was written, so a failed write leaves no gap.
    """

    def __init__(self, store: Store, enabled: bool = True) -> None:
        self.store = store
        self.enabled = enabled
        last = store.last_key(CF)
        self.last_seq = int.from_bytes(last, "big") if last else 0
        self._pending = 0

    def append(self, batch: Batch, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self._pending += 1
        seq = self.last_seq + self._pending
        batch.put(CF, encode_u64(seq), orjson.dumps({"seq": seq, **record}))

    @property
    def pending(self) -> int:
        """Records appended to the batch being built, not yet committed."""
        return self._pending

    def committed(self) -> None:
        self.last_seq += self._pending
        self._pending = 0

    def abandoned(self) -> None:
        self._pending = 0

    def count(self) -> int:
        return self.store.count(CF, b"", b"\xff" * 9)
