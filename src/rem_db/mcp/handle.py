"""The server's database handle: opened once per server, reopened read-only when another process wrote.

A read-only RocksDB handle sees the store as it was when it opened. So that a read-only server running beside a
writing app answers with current data, each call first compares a fingerprint of the store's files (the sizes
and times of the write-ahead log, MANIFEST and CURRENT files: a few ``stat`` calls, tens of microseconds) with
the one taken at open; when it changed, a fresh read-only handle is opened (tens of milliseconds) and the old one
is closed once the calls still using it finish. A read-write server (``--write``) is the only writer, sees its
own writes and is never reopened.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rem_db import Database

Fingerprint = tuple[tuple[str, int, int], ...]


def store_fingerprint(path: Path) -> Fingerprint:
    """What changes in the directory when a writer commits (WAL appends) or flushes (new MANIFEST entries)."""
    found: list[tuple[str, int, int]] = []
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".log") or name.startswith("MANIFEST-") or name == "CURRENT":
                    try:
                        info = entry.stat()
                    except FileNotFoundError:  # removed by the writer meanwhile (a WAL after a flush)
                        continue
                    found.append((name, info.st_size, info.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(found))


class DatabaseHandle:
    """The :class:`~rem_db.Database` of one server, safe to use from several threads.

    ``with handle.use() as db:`` gives the current database for one tool call. Read-only handles are reopened
    when the store changed since they opened (see the module docstring); the handle being replaced is closed
    when its last call returns.
    """

    def __init__(self, path: Path, tenant: str | None, *, write: bool, password: str | None = None) -> None:
        self.path = path
        self.tenant = tenant
        self.write = write
        self.password = password
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}  # id(database) -> calls using it
        self._retired: dict[int, Database] = {}
        self._fingerprint: Fingerprint = ()
        self._db: Database = self._open()
        self.reopens = 0

    def _open(self) -> Database:
        from rem_db import Database

        fingerprint = store_fingerprint(self.path) if not self.write else ()
        db = Database(self.path, tenant_id=self.tenant, read_only=not self.write, password=self.password)
        self._fingerprint = fingerprint
        return db

    @property
    def database(self) -> Database:
        """The current database (for calls that only describe it, such as its path)."""
        return self._db

    @contextlib.contextmanager
    def use(self) -> Iterator[Database]:
        """The database for one call, reopened first if it is read-only and another process wrote since."""
        with self._lock:
            if not self.write and store_fingerprint(self.path) != self._fingerprint:
                self._swap()
            db = self._db
            self._users[id(db)] = self._users.get(id(db), 0) + 1
        try:
            yield db
        finally:
            with self._lock:
                left = self._users[id(db)] - 1
                self._users[id(db)] = left
                retired = self._retired.pop(id(db), None) if left == 0 else None
                if left == 0 and retired is not None:
                    del self._users[id(db)]
            if retired is not None:
                retired.close()

    def _swap(self) -> None:
        old = self._db
        self._db = self._open()  # on failure (e.g. the directory vanished) the old handle keeps serving
        self.reopens += 1
        if self._users.get(id(old), 0):
            self._retired[id(old)] = old
        else:
            self._users.pop(id(old), None)
            old.close()

    def close(self) -> None:
        with self._lock:
            retired = list(self._retired.values())
            self._retired.clear()
        for db in [*retired, self._db]:
            db.close()
