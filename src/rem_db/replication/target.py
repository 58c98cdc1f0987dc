"""The replica directory as the replicator drives it: its role key, applying records, swapping in a snapshot.

A replica is a directory whose ``meta`` local key ``replication.replica`` (never replicated) names what it
follows. Its store refuses commits ("replica is read-only"); records from the primary are applied by
:meth:`~rem_db.storage.store.Store.apply_records`, one atomic write per received message, and the open
database's caches are refreshed (:mod:`.caches`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..config import Settings
from ..errors import ReplicationError, StorageError
from ..storage import wal
from ..storage.store import REPLICA_KEY, Store
from .caches import ReplicaCaches

HEADER_CF = "key_material"
HEADER_KEY = b"header"
PROMOTED_KEY = b"replication.promoted"


@dataclass(frozen=True)
class ReplicaRole:
    """What a replica directory records about itself."""

    primary: str
    replica_id: str
    since: str

    def encode(self) -> bytes:
        return orjson.dumps({"primary": self.primary, "replica_id": self.replica_id, "since": self.since})


def read_role(store: Store) -> ReplicaRole | None:
    raw = store.get_local(wal.POSITION_CF, REPLICA_KEY)
    if raw is None:
        return None
    try:
        data = orjson.loads(raw)
        return ReplicaRole(str(data["primary"]), str(data["replica_id"]), str(data.get("since", "")))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise StorageError(f"the replication role of {store.path} is unreadable") from None


def read_promotion(store: Store) -> dict[str, Any] | None:
    raw = store.get_local(wal.POSITION_CF, PROMOTED_KEY)
    return dict(orjson.loads(raw)) if raw else None


def mark_replica(path: Path, primary: str, settings: Settings) -> ReplicaRole:
    """Make ``path`` (new, empty, a restored backup, or already a replica) a replica of ``primary`` before any
    database opens it; refuses a promoted replica (its history went its own way)."""
    store = Store(path, settings=settings)
    try:
        role = read_role(store)
        if role is not None:
            if role.primary != primary:
                role = ReplicaRole(primary, role.replica_id, role.since)
                store.set_replica(role.encode())
            return role
        promoted = read_promotion(store)
        if promoted is not None:
            raise ReplicationError(f"{store.path} was promoted to a primary at sequence {promoted.get('seq')}; it "
                                   f"does not follow another primary again (its writes would be merged silently): "
                                   f"replicate into a new, empty directory")
        role = ReplicaRole(primary, str(uuid.uuid4()), datetime.now(UTC).isoformat(timespec="seconds"))
        store.set_replica(role.encode())
        return role
    finally:
        store.close()


def promote(store: Store) -> int:
    """Make a replica a writable primary at its current position; returns that position."""
    role = read_role(store)
    if role is None:
        raise ReplicationError(f"{store.path} is not a replica")
    seq = store.wal_seq()
    store.put_local(wal.POSITION_CF, PROMOTED_KEY, orjson.dumps(
        {"seq": seq, "from": role.primary, "at": datetime.now(UTC).isoformat(timespec="seconds")}))
    store.set_replica(None)
    return seq


class DatabaseTarget:
    """Applies records to an open replica database (see :class:`~.client.ReplicaTarget`).

    ``parts()`` gives the open store and its caches; ``reopen(between)`` closes the database, runs
    ``between`` (e.g. swapping the directory for a snapshot) and opens it again: after the encryption header
    arrived (the cipher is chosen at open) and after a snapshot."""

    def __init__(self, parts: Callable[[], tuple[Store, ReplicaCaches]],
                 reopen: Callable[[Callable[[], None] | None], None], role: ReplicaRole, encrypted: bool) -> None:
        self._parts = parts
        self._reopen = reopen
        self.role = role
        self._encrypted = encrypted
        self.lock = threading.Lock()

    def position(self) -> int:
        return self._parts()[0].wal_seq()

    def last_record(self) -> bytes | None:
        store = self._parts()[0]
        seq = store.wal_seq()
        return store.get(wal.CF, wal.seq_key(seq)) if seq else None

    def apply(self, entries: list[tuple[int, bytes]]) -> int:
        with self.lock:
            store, caches = self._parts()
            applied = store.apply_records(entries)
            if applied and not self._encrypted and any(
                    cf == HEADER_CF and key == HEADER_KEY for _, ops in applied for cf, key, _ in ops):
                self._encrypted = True
                self._reopen(None)  # the cipher is chosen at open: open again with the password
                return self._parts()[0].wal_seq()
            caches.refresh(applied)
            return store.wal_seq()

    def install_snapshot(self, directory: Path, seq: int) -> None:
        from .snapshot import restore_snapshot

        def swap() -> None:
            path = self._parts()[0].path
            old = path.with_name(f".{path.name}.replaced-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            try:
                restore_snapshot(directory, path, move=True)
                store = Store(path)
                try:
                    store.set_replica(self.role.encode())
                finally:
                    store.close()
            except BaseException:
                with contextlib.suppress(OSError):
                    shutil.rmtree(path, ignore_errors=True)
                    os.replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)

        with self.lock:
            self._reopen(swap)
