"""Where a primary reads its committed WAL records and learns of new ones (docs/replication.md).

Two sources, one interface:

- in the writing process (:meth:`Database.serve`), the store's commit listener wakes the streams the moment a
  commit is published: no polling;
- beside a writing process (``rem serve`` on a directory another process holds), a RocksDB secondary instance
  follows the writer: a thread calls ``catch_up()`` every ``poll_interval`` seconds and wakes the streams
  when the position moved.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from itertools import islice
from pathlib import Path

from ..storage import wal
from ..storage.store import Store

log = logging.getLogger("rem_db.replication")

#: entries per message while catching up (DEPENDENCIES.md: ~100 per message), and a byte budget per message
BATCH_ENTRIES = 100
BATCH_BYTES = 4 << 20
DEFAULT_POLL_INTERVAL = 0.002
#: at most this many new records are read with point gets instead of a range scan
POINT_READS = 16


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of a RocksDB directory's log, MANIFEST and CURRENT files."""
    out = []
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".log") or name.startswith("MANIFEST") or name == "CURRENT":
                    info = entry.stat()
                    out.append((name, info.st_size, info.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(out))


def now_us() -> int:
    return time.time_ns() // 1000


class WalFeed:
    """Committed records of one store, and a condition streams wait on for new ones."""

    def __init__(self, store: Store, poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        self.store = store
        self.mode = "secondary" if store.secondary is not None else "primary"
        self._cond = threading.Condition()
        self._latest = store.wal_seq()
        self._committed_at = now_us()
        self._closed = False
        self._waiters = 0  # streams inside wait_beyond
        self._poller: threading.Thread | None = None
        self.poll_interval = poll_interval
        self.poll_error: str | None = None
        if store.secondary is None:
            store.add_commit_listener(self._committed)
        else:
            self._poller = threading.Thread(target=self._poll, name="rem-replication-poll", daemon=True)
            self._poller.start()

    # -- learning of commits ---------------------------------------------------------------------------
    def _committed(self, seq: int) -> None:
        # on the writer's commit path: no lock unless a stream is waiting (a stream coalescing a burst reads
        # the new position when it wakes). A waiter registers under the lock before it checks the position,
        # and the position is set before the waiter count is read, so no wake-up is lost.
        self._latest = seq
        self._committed_at = now_us()
        if self._waiters:
            with self._cond:
                self._cond.notify_all()

    def _poll(self) -> None:
        seen: tuple[tuple[str, int, int], ...] | None = None
        while not self._closed:
            # catching up costs ~20 ms whatever changed (RocksDB re-reads the writer's MANIFEST and log): do it
            # only when the writer's log or MANIFEST files changed, which a directory listing tells cheaply
            now = _signature(self.store.path)
            if now == seen:
                time.sleep(self.poll_interval)
                continue
            seen = now
            try:
                self.store.catch_up()
                self.poll_error = None
            except Exception as exc:  # the writer flushing or compacting meanwhile: try again next round
                self.poll_error = str(exc)
                log.debug("secondary catch-up failed: %s", exc)
            seq = self.store.wal_seq()
            if seq != self._latest:
                self._committed(seq)
            time.sleep(self.poll_interval)

    # -- reading -------------------------------------------------------------------------------------
    @property
    def latest(self) -> int:
        return self._latest

    @property
    def committed_at_us(self) -> int:
        return self._committed_at

    def wait_beyond(self, seq: int, timeout: float) -> bool:
        """Wait until a commit after ``seq`` is published (True) or ``timeout`` passes / the feed closes."""
        with self._cond:
            self._waiters += 1
            try:
                return self._cond.wait_for(lambda: self._latest > seq or self._closed, timeout) and not self._closed
            finally:
                self._waiters -= 1

    def read(self, from_seq: int, max_entries: int = BATCH_ENTRIES,
             max_bytes: int = BATCH_BYTES) -> list[tuple[int, bytes]]:
        """Stored records from ``from_seq`` on (up to the published position), at most ``max_entries`` and
        about ``max_bytes`` (a larger single record is sent alone)."""
        upto = self._latest
        if from_seq > upto:
            return []
        if upto - from_seq < POINT_READS:  # live: a few new commits, cheaper as point reads than a scan
            seqs = range(from_seq, upto + 1)
            found = self.store.multi_get(wal.CF, [wal.seq_key(s) for s in seqs])
            live = []
            for seq, value in zip(seqs, found, strict=True):
                if value is None:  # trimmed (retention): the scan below reports from the first one kept
                    break
                live.append((seq, value))
            else:
                return live
        out: list[tuple[int, bytes]] = []
        size = 0
        pairs = self.store.items(wal.CF, wal.seq_key(from_seq), wal.seq_key(upto + 1), fill_cache=False)
        for key, value in islice(pairs, max_entries):
            out.append((wal.seq_of(key), value))
            size += len(value)
            if size >= max_bytes:
                break
        return out

    def record(self, seq: int) -> bytes | None:
        return self.store.get(wal.CF, wal.seq_key(seq)) if seq > 0 else None

    def first_seq(self) -> int:
        """The oldest retained record (0: none)."""
        return self.store.wal_first_seq() or 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._poller is None:
            self.store.remove_commit_listener(self._committed)
        else:
            with contextlib.suppress(RuntimeError):
                self._poller.join(timeout=2)
