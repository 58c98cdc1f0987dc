"""WAL retention (SPEC §9, §15): the background worker trims WAL records older than
``P8_WAL_RETENTION_HOURS`` and the oldest records while the log is larger than ``P8_WAL_MAX_SIZE_MB``.

Trimming is local to this directory (a range delete plus a compaction of that range, no commit, nothing
replicated: :meth:`~rem_db.storage.store.Store.trim_wal`). The commit position (``meta`` ``wal.position``) is
another key and is never trimmed. A replica whose position is older than :func:`first_retained_seq` can no
longer catch up from records: it re-bootstraps from a snapshot (replication/snapshot.py). A vector index
whose files are older than the first retained record is rebuilt from the stored vectors on the next open.

**When records were written.** Records carry no time. Each run of the task records a time mark, ``(last
committed sequence, wall time)``, when commits happened since the last mark: every record up to that
sequence was written at or before that time. The marks are one local ``meta`` key (:data:`MARKS_KEY`, packed
``u64 sequence, f64 unix time`` pairs; never replicated), trimmed with the records they describe, so there
are at most a day's worth of minutes of them at the defaults. Age trimming removes the records up to the
newest mark older than the retention: a record is kept up to one check interval longer than the retention,
never trimmed early. Records written before any mark count as written at the first mark's time.

**When it runs.** Once when the database opens read-write (trimming what earlier sessions left), then a small
ticker thread wakes every second and queues one run on the background worker when ``check_seconds`` (60)
passed since the last run or ``check_commits`` (10,000) commits were made since; closing records a last
mark. A run reads a few RocksDB properties and one key unless there is something to trim. Nothing is done
on the commit path.
"""

from __future__ import annotations

import contextlib
import logging
import math
import struct
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..storage.store import Store
from ..worker import BackgroundWorker

log = logging.getLogger("rem_db.replication")

META_CF = "meta"
MARKS_KEY = b"wal.timemarks"
_MARK = struct.Struct(">Qd")
#: marks kept at most (older ones are thinned out when a long retention collects more)
MAX_MARKS = 4096
#: size trimming aims this far below the limit, so that it does not run again at the next commit
SIZE_TARGET = 0.9


def first_retained_seq(store: Store) -> int:
    """The oldest commit sequence whose WAL record is still stored; ``wal_seq() + 1`` when none is (the WAL
    off, or everything trimmed). A replica at position ``p`` can catch up from records iff ``p + 1 >=`` this."""
    first = store.wal_first_seq()
    return first if first is not None else store.wal_seq() + 1


def read_marks(store: Store) -> list[tuple[int, float]]:
    """The time marks ``(sequence, unix time)``, oldest first."""
    raw = store.get_local(META_CF, MARKS_KEY) or b""
    return [_MARK.unpack_from(raw, at) for at in range(0, len(raw) - len(raw) % _MARK.size, _MARK.size)]


def _write_marks(store: Store, marks: list[tuple[int, float]]) -> None:
    store.put_local(META_CF, MARKS_KEY, b"".join(_MARK.pack(seq, at) for seq, at in marks) if marks else None)


@dataclass
class TrimReport:
    """What one run did."""

    trimmed_by_age: int  # records removed because they were older than the retention
    trimmed_by_size: int  # records removed to bring the log under the size limit
    wal_bytes: int  # size of the log after the run
    store: Store = field(repr=False, compare=False)
    first: int | None = None  # first retained sequence after the run, when the run had to find it

    @property
    def first_seq(self) -> int:
        """The first retained sequence after the run. Found when asked unless the run trimmed: it reads the
        oldest record, and a bulk load's records are tens of MB (a run that trims nothing stays cheap, so
        the run queued at every open does not hold up the first searches)."""
        if self.first is None:
            self.first = first_retained_seq(self.store)
        return self.first


class WalRetention:
    """Trims one store's WAL by age and size, run by the background worker (module docstring)."""

    def __init__(self, store: Store, settings: Settings, worker: BackgroundWorker, *, check_seconds: float = 60.0,
                 check_commits: int = 10_000, tick: float = 1.0) -> None:
        self.store = store
        self.max_age_seconds = settings.wal_retention_hours * 3600.0
        self.max_bytes = int(settings.wal_max_size_mb * 1024 * 1024)
        self.worker = worker
        self.check_seconds = check_seconds
        self.check_commits = check_commits
        self.tick = tick
        self._lock = threading.Lock()  # one run at a time (the ticker's, or a direct call)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queued: Future[Any] | None = None
        self._last_run = time.monotonic()
        self._last_seq = store.wal_seq()

    # -- the ticker ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Queue a first run (trimming only: what earlier sessions left) and start the ticker thread (a
        daemon; :meth:`stop` ends it)."""
        if self._thread is None:
            with contextlib.suppress(RuntimeError):  # the worker is shut down already
                self._queued = self.worker.submit(self.run, mark=False)
            self._thread = threading.Thread(target=self._tick_loop, name="rem-wal-retention", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the ticker and record a last time mark (closing): the records of this session get their time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self.store.closed:
            with self._lock:
                self._mark(time.time())

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick):
            due = time.monotonic() - self._last_run >= self.check_seconds
            busy = self.store.wal_seq() - self._last_seq >= self.check_commits
            if (due or busy) and (self._queued is None or self._queued.done()):
                try:
                    self._queued = self.worker.submit(self.run)
                except RuntimeError:  # the worker is shut down: the database is closing
                    return

    # -- one run -----------------------------------------------------------------------------------------
    def run(self, now: float | None = None, mark: bool = True) -> TrimReport:
        """Record a time mark (unless ``mark`` is false), then trim by age and by size; ``now`` (unix time)
        for tests of the age rule."""
        with self._lock:
            self._last_run = time.monotonic()
            self._last_seq = self.store.wal_seq()
            at = time.time() if now is None else now
            marks = self._mark(at) if mark else read_marks(self.store)
            by_age = self._trim_by_age(marks, at)
            by_size = self._trim_by_size()
            report = TrimReport(by_age, by_size, self.store.wal_size_bytes(), self.store)
            if by_age or by_size:  # marks go with their records
                kept = [m for m in marks if m[0] >= report.first_seq]
                if len(kept) != len(marks):
                    _write_marks(self.store, kept)
        if by_age or by_size:
            log.info("WAL retention: trimmed %d record(s) by age, %d by size; first retained %d, %d bytes",
                     by_age, by_size, report.first_seq, report.wal_bytes)
        return report

    def _mark(self, at: float) -> list[tuple[int, float]]:
        """Append ``(last commit, at)`` when commits happened since the last mark; the marks."""
        marks = read_marks(self.store)
        seq = self.store.wal_seq()
        if seq and (not marks or marks[-1][0] < seq):
            marks.append((seq, at))
            if len(marks) > MAX_MARKS:  # thin out the older half: coarser times for old records
                half = len(marks) // 2
                marks = marks[:half:2] + marks[half:]
            _write_marks(self.store, marks)
        return marks

    def _trim_by_age(self, marks: list[tuple[int, float]], now: float) -> int:
        cutoff = now - self.max_age_seconds
        old = [seq for seq, at in marks if at <= cutoff]
        if not old:
            return 0
        return self._trim(max(old))

    def _trim_by_size(self) -> int:
        trimmed = 0
        if self.store.wal_size_bytes() <= self.max_bytes:
            return 0
        # the memtable's figure is its arena (a megabyte or more once written to), not its records: flush
        # and measure the SST files
        self.store.flush_family("wal")
        for _ in range(4):  # records differ in size: re-measure after each estimate
            size = self.store.family_sizes()["wal"]["sst_bytes"]
            if size <= self.max_bytes:
                break
            first, last = first_retained_seq(self.store), self.store.wal_seq()
            if first > last:
                break
            per_record = size / (last - first + 1)
            count = math.ceil((size - self.max_bytes * SIZE_TARGET) / per_record)
            trimmed += self._trim(min(last, first + count - 1))
        return trimmed

    def _trim(self, upto: int) -> int:
        before = first_retained_seq(self.store)
        if upto < before:
            return 0
        after = self.store.trim_wal(upto)
        return max(0, after - before)
