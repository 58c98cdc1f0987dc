"""The replica's side (SPEC §9): pull the primary's WAL over gRPC and apply it, reconnecting with backoff.

:class:`Replicator` knows the wire and the states (``disconnected``, ``connecting``, ``syncing``, ``synced``,
``error``); what applying means is handed in as a :class:`ReplicaTarget` (the open replica database: apply
records in one atomic write each message, tell its position and its last record, swap in a snapshot).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grpc
import orjson

from ..errors import ReplicationError, StorageError
from .feed import now_us
from .proto import replication_pb2 as pb
from .proto import replication_pb2_grpc as pb_grpc
from .security import call_metadata, channel
from .server import ahead_of_primary, digest

log = logging.getLogger("rem_db.replication")

STATES = ("disconnected", "connecting", "syncing", "synced", "error")
STATUS_FILE = "replication-replica.json"
HEARTBEAT_SECONDS = 1.0
#: the shortest time between two acknowledgements the replica sends (they only feed the primary's status)
ACK_INTERVAL = 0.05
#: a stream silent for this long (no entries, no heartbeat) is taken as dead and reconnected
SILENCE_SECONDS = 5.0
STATUS_WRITE_INTERVAL = 0.5


class ReplicaTarget(Protocol):
    """The replica database as the replicator drives it."""

    def position(self) -> int:
        """The last applied sequence."""

    def last_record(self) -> bytes | None:
        """The stored record at :meth:`position` (None: none kept)."""

    def apply(self, entries: list[tuple[int, bytes]]) -> int:
        """Apply consecutive records atomically (skipping those at or below the position); the new position."""

    def install_snapshot(self, directory: Path, seq: int) -> None:
        """Replace the replica's contents with the snapshot in ``directory`` (holding commits up to ``seq``)."""


@dataclass
class ReplicaStatus:
    """What ``rem replication status`` shows of a running replica."""

    primary: str
    state: str = "disconnected"
    position: int = 0
    primary_seq: int = 0
    lag_entries: int = 0
    lag_ms: float = 0.0
    last_sync: float | None = None
    error: str | None = None
    applied: int = 0
    reconnects: int = 0
    pid: int = field(default_factory=os.getpid)

    def as_dict(self) -> dict[str, Any]:
        return {"primary": self.primary, "state": self.state, "position": self.position,
                "primary_seq": self.primary_seq, "lag_entries": self.lag_entries, "lag_ms": round(self.lag_ms, 3),
                "last_sync": self.last_sync, "error": self.error, "applied": self.applied,
                "reconnects": self.reconnects, "pid": self.pid}


class Replicator:
    """Follows one primary into one :class:`ReplicaTarget`."""

    def __init__(self, target: ReplicaTarget, primary: str, replica_id: str, *, token: str | None = None,
                 tls_ca: str | os.PathLike[str] | None = None, status_dir: Path | None = None,
                 backoff: tuple[float, float] = (1.0, 60.0),
                 on_state: Callable[[ReplicaStatus], None] | None = None,
                 on_applied: Callable[[int], None] | None = None) -> None:
        self.target = target
        self.primary = primary
        self.replica_id = replica_id
        self.token = token
        self.tls_ca = tls_ca
        self.status = ReplicaStatus(primary, position=target.position())
        self._status_path = status_dir / STATUS_FILE if status_dir is not None else None
        self._status_written = 0.0
        self.backoff = backoff
        self._on_state = on_state
        self._on_applied = on_applied
        self.stop_event = threading.Event()
        self._call: Any = None
        self._behind_since: float | None = None
        channel(primary, token, tls_ca).close()  # refuses a non-loopback primary without token and TLS now

    # -- the loop -----------------------------------------------------------------------------------
    def run(self, follow: bool) -> ReplicaStatus:
        """Without ``follow``: catch up to the primary's current sequence and return. With it: apply live
        entries until :meth:`stop`, reconnecting with backoff (1 s doubling to 60 s) after any failure."""
        delay = self.backoff[0]
        target_seq: int | None = None
        caught_up = False
        try:
            while not self.stop_event.is_set():
                self._set("connecting")
                before = self.status.position
                try:
                    progressed, target_seq = self._session(follow, target_seq)
                    if not follow and target_seq is not None and self.status.position >= target_seq:
                        self._synced()
                        caught_up = True
                        return self.status
                    if progressed:
                        delay = self.backoff[0]
                    reason = "the primary ended the stream"
                except ReplicationError as exc:
                    self._set("error", str(exc))
                    raise
                except grpc.RpcError as exc:
                    refusal = _refusal(exc)
                    if refusal is not None:
                        self._set("error", refusal)
                        raise ReplicationError(refusal) from None
                    if not follow:
                        message = f"cannot replicate from {self.primary}: {_describe(exc)}"
                        self._set("error", message)
                        raise ReplicationError(message) from None
                    reason = _describe(exc)
                except StorageError as exc:  # a gap: reconnect from the position
                    if not follow:
                        self._set("error", str(exc))
                        raise
                    reason = str(exc)
                if self.stop_event.is_set():
                    break
                if self.status.position > before:  # the stream worked before it broke: start the backoff over
                    delay = self.backoff[0]
                self.status.reconnects += 1
                self._set("disconnected", reason)
                log.warning("replication from %s: %s; reconnecting in %.0f s", self.primary, reason, delay)
                if self.stop_event.wait(delay):
                    break
                delay = min(delay * 2, self.backoff[1])
            return self.status
        finally:
            if self.status.state != "error" and not caught_up:
                self._set("disconnected")
            self._write_status(force=True)

    def stop(self) -> None:
        """End :meth:`run` (from another thread): the stream is cancelled, nothing half-applied."""
        self.stop_event.set()
        call = self._call
        if call is not None:
            with contextlib.suppress(Exception):
                call.cancel()

    # -- one connection ------------------------------------------------------------------------------
    def _session(self, follow: bool, target_seq: int | None) -> tuple[bool, int | None]:
        """One stream; returns (whether anything was applied, the sequence to reach without ``follow``)."""
        progressed = False
        ch = channel(self.primary, self.token, self.tls_ca)
        try:
            stub = pb_grpc.ReplicationStub(ch)
            metadata = call_metadata(self.token)
            if not follow and target_seq is None:
                status = stub.GetStatus(pb.StatusRequest(), metadata=metadata, timeout=10)
                target_seq = int(status.current_seq)
                self.status.primary_seq = target_seq
                position = self.target.position()
                if position > target_seq:  # the primary's Subscribe refuses this too; say so without asking
                    raise ReplicationError(ahead_of_primary(position, target_seq))
                if position == target_seq:
                    self._synced()
                    return False, target_seq
            acks: queue.Queue[int | None] = queue.Queue()
            position = self.target.position()
            last = self.target.last_record()
            first = pb.SubscribeRequest(from_seq=position + 1, replica_id=self.replica_id, ack_seq=position,
                                        last_digest=digest(last) if last is not None else b"", allow_snapshot=True)
            call = stub.Subscribe(self._requests(first, acks), metadata=metadata)
            self._call = call
            if self.stop_event.is_set():
                call.cancel()
            snapshot: _SnapshotReceiver | None = None
            watchdog = _Watchdog(call, SILENCE_SECONDS)
            try:
                for message in call:
                    watchdog.touch()
                    if message.HasField("snapshot_begin") or snapshot is not None:
                        snapshot = snapshot or _SnapshotReceiver(self.target)
                        self._set("syncing")
                        if snapshot.feed(message):
                            snapshot = None
                            progressed = True
                            self.status.position = self.target.position()
                            self._write_status(force=True)
                        continue
                    if message.entries:
                        if self.status.state != "syncing" and self.status.position < message.current_seq:
                            self._set("syncing")
                        new = self.target.apply([(e.seq, e.record) for e in message.entries])
                        progressed = True
                        self.status.applied += len(message.entries)
                        self.status.position = new
                        acks.put(new)
                        if message.committed_at_us:
                            self.status.lag_ms = max(0.0, (now_us() - message.committed_at_us) / 1000)
                        if self._on_applied is not None:
                            self._on_applied(new)
                    self.status.primary_seq = max(self.status.primary_seq, message.current_seq)
                    if self.status.position >= message.current_seq:
                        self._synced()
                    else:
                        self._behind()
                    if not follow and target_seq is not None and self.status.position >= target_seq:
                        call.cancel()
                        return progressed, target_seq
                    self._write_status()
            except grpc.RpcError as exc:
                if self.stop_event.is_set() or (exc.code() == grpc.StatusCode.CANCELLED and watchdog.fired is None
                                                and not follow and target_seq is not None
                                                and self.status.position >= target_seq):
                    return progressed, target_seq
                if watchdog.fired is not None:
                    raise ReplicationTimeout(f"no message from the primary for {SILENCE_SECONDS:.0f} s") from None
                raise
            finally:
                watchdog.stop()
                acks.put(None)
                if snapshot is not None:
                    snapshot.discard()
            return progressed, target_seq
        except ReplicationTimeout as exc:
            if not follow:
                raise ReplicationError(f"cannot replicate from {self.primary}: {exc}") from None
            self.status.error = str(exc)
            return progressed, target_seq
        finally:
            self._call = None
            ch.close()

    def _requests(self, first: pb.SubscribeRequest, acks: queue.Queue[int | None]) -> Iterator[pb.SubscribeRequest]:
        yield first
        ack = first.ack_seq
        while True:
            try:
                item = acks.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                item = ack
            if item is None or self.stop_event.is_set():
                return
            ack = max(ack, item)
            while not acks.empty():  # acknowledge the newest position only
                newer = acks.get_nowait()
                if newer is None:
                    return
                ack = max(ack, newer)
            yield pb.SubscribeRequest(replica_id=self.replica_id, ack_seq=ack, heartbeat=True)
            # one acknowledgement per ACK_INTERVAL at most (the newest position then): each message costs the
            # primary's gRPC threads a turn at the GIL its writer is using
            if self.stop_event.wait(ACK_INTERVAL):
                return

    # -- states --------------------------------------------------------------------------------------
    def _synced(self) -> None:
        self._behind_since = None
        self.status.lag_entries = 0
        self.status.last_sync = time.time()
        self.status.error = None
        if self.status.state != "synced":
            self._set("synced")

    def _behind(self) -> None:
        now = time.monotonic()
        if self._behind_since is None:
            self._behind_since = now
        self.status.lag_entries = max(0, self.status.primary_seq - self.status.position)
        self.status.lag_ms = (now - self._behind_since) * 1000

    def _set(self, state: str, error: str | None = None) -> None:
        changed = state != self.status.state or error is not None
        self.status.state = state
        if error is not None:
            self.status.error = error
        self.status.position = self.target.position()
        if changed:
            self._write_status(force=True)
            if self._on_state is not None:
                self._on_state(self.status)

    def _write_status(self, force: bool = False) -> None:
        if self._status_path is None:
            return
        now = time.monotonic()
        if not force and now - self._status_written < STATUS_WRITE_INTERVAL:
            return
        self._status_written = now
        data = {**self.status.as_dict(), "updated_at": time.time()}
        tmp = self._status_path.with_name(self._status_path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.replace(tmp, self._status_path)
        except OSError as exc:
            log.warning("replication: cannot write %s: %s", self._status_path, exc)


class ReplicationTimeout(Exception):
    """The stream went silent (no heartbeat): the primary or the network is gone."""


class _Watchdog:
    """Cancels a stream that stays silent longer than ``limit`` seconds (heartbeats come every second)."""

    def __init__(self, call: Any, limit: float) -> None:
        self._call = call
        self._limit = limit
        self._last = time.monotonic()
        self._done = threading.Event()
        self.fired: float | None = None
        self._thread = threading.Thread(target=self._watch, daemon=True, name="rem-replication-watchdog")
        self._thread.start()

    def touch(self) -> None:
        self._last = time.monotonic()

    def _watch(self) -> None:
        while not self._done.wait(0.5):
            if time.monotonic() - self._last > self._limit:
                self.fired = time.monotonic()
                with contextlib.suppress(Exception):
                    self._call.cancel()
                return

    def stop(self) -> None:
        self._done.set()


class _SnapshotReceiver:
    """Writes a streamed snapshot to a directory beside the replica, then hands it to the target."""

    def __init__(self, target: ReplicaTarget) -> None:
        self.target = target
        self.work = Path(tempfile.mkdtemp(prefix="rem-snapshot-in-"))
        self.root = self.work / "snapshot"
        self.root.mkdir()
        self.seq = 0
        self._handle: Any = None
        self._path: str | None = None

    def feed(self, message: pb.SubscribeResponse) -> bool:
        """Take one message; True once the snapshot is installed."""
        if message.HasField("snapshot_begin"):
            self.seq = message.snapshot_begin.seq
            log.info("replication: receiving a snapshot at sequence %d (%d bytes)", self.seq,
                     message.snapshot_begin.total_bytes)
            return False
        if message.HasField("snapshot_chunk"):
            chunk = message.snapshot_chunk
            if self._path != chunk.path:
                self._close_file()
                rel = Path(chunk.path)
                if rel.is_absolute() or ".." in rel.parts:
                    raise ReplicationError(f"the primary sent a snapshot file outside the snapshot: {chunk.path}")
                out = self.root / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                self._handle = out.open("wb")
                self._path = chunk.path
            self._handle.write(chunk.data)
            if chunk.last_of_file:
                self._close_file()
            return False
        if message.HasField("snapshot_end"):
            self._close_file()
            try:
                self.target.install_snapshot(self.root, message.snapshot_end.seq)
            finally:
                shutil.rmtree(self.work, ignore_errors=True)
            return True
        return False

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self._path = None

    def discard(self) -> None:
        self._close_file()
        shutil.rmtree(self.work, ignore_errors=True)


def _refusal(exc: grpc.RpcError) -> str | None:
    """The primary's refusal as a message (token, diverged history, retention without snapshot), or None
    for failures worth retrying (unreachable, stopped)."""
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return f"the primary refused the replication token: {details}"
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED):
        return f"the primary refused this replica: {details}"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"{details} (is the address a REM primary?)"
    return None


def _describe(exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"primary unavailable ({details})"
    return f"{code.name if code is not None else 'error'}: {details}"


def read_status(directory: Path) -> dict[str, Any] | None:
    """The status file a replicating process keeps in its directory (None: never written)."""
    path = directory / STATUS_FILE
    try:
        data: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data


class ReplicaHandle:
    """A replica following its primary in a background thread (``Database.replicate(follow=True)``)."""

    def __init__(self, replicator: Replicator, on_exit: Callable[[], None] | None = None) -> None:
        self.replicator = replicator
        self.error: BaseException | None = None
        self._on_exit = on_exit
        self._thread = threading.Thread(target=self._run, name="rem-replica", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.replicator.run(follow=True)
        except BaseException as exc:  # kept for the owner: raised by wait()/stop()
            self.error = exc
            log.error("replication from %s stopped: %s", self.replicator.primary, exc)

    @property
    def status(self) -> ReplicaStatus:
        return self.replicator.status

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_for(self, seq: int, timeout: float = 10.0) -> bool:
        """Wait until the replica has applied ``seq`` (True), or ``timeout`` passes / replication stopped."""
        deadline = time.monotonic() + timeout
        while self.replicator.status.position < seq:
            if not self._thread.is_alive() or time.monotonic() >= deadline:
                return self.replicator.status.position >= seq
            time.sleep(0.002)
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait until the following thread ends (``stop()``, or an error kept in ``error``)."""
        self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> None:
        """Block until replication stops (``stop()`` or an error, raised here)."""
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Stop following (the applied position is kept; a later ``replicate`` goes on from it)."""
        self.replicator.stop()
        self._thread.join(timeout=10)
        if self._on_exit is not None:
            self._on_exit()
            self._on_exit = None
