"""The primary's gRPC service (SPEC §9): ``Subscribe`` streams WAL records to replicas, ``GetStatus`` answers
what a primary holds. :func:`start_server` starts it over a :class:`~.feed.WalFeed`.

A stream starts where the replica says (``from_seq``, checked against the record it applied last, so a
replica whose history differs is refused instead of silently merged), sends the retained records in batches
of up to 100, then each commit as it is published; an idle stream gets a heartbeat every second carrying
the primary's position. A replica behind retention gets a snapshot (``replication/snapshot.py``) and goes on
from its sequence.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import orjson
from blake3 import blake3

from ..errors import DatabaseError
from .feed import WalFeed, now_us
from .proto import replication_pb2 as pb
from .proto import replication_pb2_grpc as pb_grpc
from .security import SERVER_OPTIONS, join_address, server_credentials, token_ok

log = logging.getLogger("rem_db.replication")

HEARTBEAT_SECONDS = 1.0
#: a live message follows the previous one by at least this much (an idle stream sends at once)
COALESCE_SECONDS = 0.002
SNAPSHOT_CHUNK = 1 << 20
STATUS_FILE = "replication-serve.json"
#: makes a snapshot of the served store in a new directory and returns its sequence (None: not offered)
SnapshotMaker = Callable[[Path], int]


def digest(record: bytes) -> bytes:
    """What a replica sends of its last applied record, and the primary compares."""
    return blake3(record).digest()[:16]


@dataclass
class ReplicaSession:
    replica_id: str
    peer: str
    ack_seq: int
    connected_at_us: int = field(default_factory=now_us)


def ahead_of_primary(position: int, latest: int) -> str:
    """Why a replica at ``position`` cannot follow a primary whose last commit is ``latest`` (< position)."""
    return (f"the replica is at sequence {position}, ahead of the primary ({latest}): their histories diverged; "
            f"make a new replica (an empty directory) or promote it")


class ReplicationService(pb_grpc.ReplicationServicer):
    """Subscribe and GetStatus over one feed."""

    def __init__(self, feed: WalFeed, token: str | None, snapshot: SnapshotMaker | None,
                 on_sessions: Callable[[list[ReplicaSession]], None] | None = None) -> None:
        self.feed = feed
        self.token = token
        self.snapshot = snapshot
        self.sessions: dict[int, ReplicaSession] = {}
        self._lock = threading.Lock()
        self._on_sessions = on_sessions
        self.stopping = threading.Event()

    # -- helpers -------------------------------------------------------------------------------------
    def _authorise(self, context: grpc.ServicerContext) -> None:
        if not token_ok(self.token, context.invocation_metadata()):
            log.warning("replication: refused %s: wrong or missing replication token", context.peer())
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "replication token refused by the primary: give the primary's token "
                          "(--token or P8_REPLICATION_TOKEN)")

    def _changed(self) -> None:
        if self._on_sessions is not None:
            with self._lock:
                sessions = list(self.sessions.values())
            try:
                self._on_sessions(sessions)
            except OSError as exc:
                log.warning("replication: cannot write the serve status file: %s", exc)

    def _response(self, entries: list[tuple[int, bytes]] = (), live: bool = False) -> pb.SubscribeResponse:  # type: ignore[assignment]
        return pb.SubscribeResponse(
            entries=[pb.WalEntry(seq=seq, record=record) for seq, record in entries],
            current_seq=self.feed.latest, sent_at_us=now_us(),
            committed_at_us=self.feed.committed_at_us if live else 0)

    # -- GetStatus -----------------------------------------------------------------------------------
    def GetStatus(self, request: pb.StatusRequest, context: grpc.ServicerContext) -> pb.StatusResponse:
        self._authorise(context)
        store = self.feed.store
        current = self.feed.latest
        first = self.feed.first_seq()
        with self._lock:
            sessions = list(self.sessions.values())
        return pb.StatusResponse(
            current_seq=current, replica_count=len(sessions),
            entry_count=current - first + 1 if first else 0, healthy=not self.stopping.is_set()
            and self.feed.poll_error is None, first_seq=first, wal_bytes=store.wal_size_bytes(),
            replicas=[pb.ReplicaInfo(replica_id=s.replica_id, peer=s.peer, ack_seq=s.ack_seq,
                                     connected_at_us=s.connected_at_us) for s in sessions],
            mode=self.feed.mode)

    # -- Subscribe -----------------------------------------------------------------------------------
    def Subscribe(self, request_iterator: Iterator[pb.SubscribeRequest],
                  context: grpc.ServicerContext) -> Iterator[pb.SubscribeResponse]:
        self._authorise(context)
        first = next(request_iterator, None)
        if first is None:
            return
        start = max(1, first.from_seq)
        self._check_history(first, start, context)
        session = ReplicaSession(first.replica_id or context.peer(), context.peer(), start - 1)
        key = id(session)
        with self._lock:
            self.sessions[key] = session
        self._changed()
        log.info("replication: replica %s (%s) connected from sequence %d", session.replica_id, session.peer, start)
        reader = threading.Thread(target=self._read_acks, args=(request_iterator, session), daemon=True,
                                  name="rem-replication-acks")
        reader.start()
        try:
            retained = self.feed.first_seq()
            if start <= self.feed.latest and (retained == 0 or start < retained):
                if not first.allow_snapshot or self.snapshot is None:
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                  f"the replica needs records from {start} on, but the primary keeps them from "
                                  f"{retained or self.feed.latest + 1} on (WAL retention): bootstrap it from a "
                                  f"snapshot (rem replicate into an empty directory)")
                yield from self._send_snapshot(context)
                return  # the replica reconnects from the snapshot's sequence
            yield from self._stream(start, context)
        finally:
            with self._lock:
                self.sessions.pop(key, None)
            self._changed()
            log.info("replication: replica %s disconnected (acknowledged %d)", session.replica_id, session.ack_seq)

    def _check_history(self, first: pb.SubscribeRequest, start: int, context: grpc.ServicerContext) -> None:
        position = start - 1
        if position > self.feed.latest:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, ahead_of_primary(position, self.feed.latest))
        if position and first.last_digest:
            mine = self.feed.record(position)
            if mine is not None and digest(mine) != first.last_digest:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              f"the replica's record {position} differs from the primary's: their histories "
                              f"diverged (a promoted replica, or another database); it is not merged")

    def _read_acks(self, requests: Iterator[pb.SubscribeRequest], session: ReplicaSession) -> None:
        with contextlib.suppress(grpc.RpcError, ValueError, RuntimeError):
            for message in requests:
                session.ack_seq = max(session.ack_seq, message.ack_seq)

    def _stream(self, start: int, context: grpc.ServicerContext) -> Iterator[pb.SubscribeResponse]:
        next_seq = start
        feed = self.feed
        last_sent = time.monotonic()
        live = False
        while context.is_active() and not self.stopping.is_set():
            if live:
                # a commit right after the last live message waits a moment for the ones that follow it: a
                # burst of writes goes out in a few messages instead of one each (less work on both sides)
                pause = COALESCE_SECONDS - (time.monotonic() - last_sent)
                if pause > 0:
                    time.sleep(pause)
            entries = feed.read(next_seq)
            if entries:
                if entries[0][0] != next_seq:  # trimmed between the check and the read
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                  f"record {next_seq} is no longer retained by the primary (WAL retention)")
                next_seq = entries[-1][0] + 1
                live = next_seq > feed.latest
                yield self._response(entries, live=live)
                last_sent = time.monotonic()
                continue
            wait = HEARTBEAT_SECONDS - (time.monotonic() - last_sent)
            if wait > 0 and feed.wait_beyond(next_seq - 1, wait):
                continue
            if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                yield self._response()
                last_sent = time.monotonic()

    def _send_snapshot(self, context: grpc.ServicerContext) -> Iterator[pb.SubscribeResponse]:
        assert self.snapshot is not None
        work = Path(tempfile.mkdtemp(prefix="rem-snapshot-"))
        try:
            root = work / "snapshot"
            seq = self.snapshot(root)
            files = sorted(p for p in root.rglob("*") if p.is_file())
            total = sum(p.stat().st_size for p in files)
            log.info("replication: sending a snapshot at sequence %d (%d bytes)", seq, total)
            yield pb.SubscribeResponse(snapshot_begin=pb.SnapshotBegin(seq=seq, total_bytes=total),
                                       current_seq=self.feed.latest, sent_at_us=now_us())
            for path in files:
                rel = path.relative_to(root).as_posix()
                with path.open("rb") as handle:
                    while True:
                        data = handle.read(SNAPSHOT_CHUNK)
                        last = len(data) < SNAPSHOT_CHUNK
                        yield pb.SubscribeResponse(snapshot_chunk=pb.SnapshotChunk(path=rel, data=data,
                                                                                   last_of_file=last))
                        if last or not context.is_active():
                            break
            yield pb.SubscribeResponse(snapshot_end=pb.SnapshotEnd(seq=seq), current_seq=self.feed.latest,
                                       sent_at_us=now_us())
        finally:
            shutil.rmtree(work, ignore_errors=True)


class ReplicationServer:
    """A running replication server (:func:`start_server`); :meth:`stop` ends it."""

    def __init__(self, server: grpc.Server, service: ReplicationService, host: str, port: int,
                 status_path: Path | None, on_stop: Callable[[], None] | None) -> None:
        self._server = server
        self.service = service
        self.host = host
        self.port = port
        self._status_path = status_path
        self._on_stop = on_stop
        self._stopped = threading.Event()

    @property
    def address(self) -> str:
        return join_address(self.host, self.port)

    def status(self) -> dict[str, Any]:
        """What GetStatus answers, as a dict."""
        with self.service._lock:
            sessions = list(self.service.sessions.values())
        feed = self.service.feed
        first = feed.first_seq()
        return {"address": self.address, "mode": feed.mode, "current_seq": feed.latest,
                "replica_count": len(sessions), "entry_count": feed.latest - first + 1 if first else 0,
                "replicas": [_session_dict(s) for s in sessions]}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or ``timeout``); True once stopped."""
        return self._stopped.wait(timeout)

    def stop(self, grace: float | None = 0.5) -> None:
        """Stop serving: streams end (replicas reconnect elsewhere or later), the feed is released."""
        if self._stopped.is_set():
            return
        self.service.stopping.set()
        self.service.feed.close()
        self._server.stop(grace).wait()
        if self._status_path is not None:
            self._status_path.unlink(missing_ok=True)
        if self._on_stop is not None:
            self._on_stop()
        self._stopped.set()

    def __enter__(self) -> ReplicationServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _session_dict(s: ReplicaSession) -> dict[str, Any]:
    return {"replica_id": s.replica_id, "peer": s.peer, "ack_seq": s.ack_seq,
            "connected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.connected_at_us / 1e6))}


def start_server(feed: WalFeed, host: str = "127.0.0.1", port: int = 50051, *, token: str | None = None,
                 tls_cert: str | os.PathLike[str] | None = None, tls_key: str | os.PathLike[str] | None = None,
                 snapshot: SnapshotMaker | None = None, status_dir: Path | None = None,
                 on_stop: Callable[[], None] | None = None, max_replicas: int = 32) -> ReplicationServer:
    """Serve ``feed`` on ``host:port`` (port 0: any free port, see ``.port``). Refuses a non-loopback host
    without a token and TLS (:class:`~rem_db.errors.ConfigError`)."""
    creds = server_credentials(host, token, tls_cert, tls_key)
    status_path = status_dir / STATUS_FILE if status_dir is not None else None
    bound: dict[str, Any] = {}

    def write_status(sessions: list[ReplicaSession]) -> None:
        if status_path is None:
            return
        data = {"pid": os.getpid(), "address": bound.get("address"), "mode": feed.mode,
                "tls": creds is not None, "replicas": [_session_dict(s) for s in sessions],
                "updated_at": time.time()}
        tmp = status_path.with_name(status_path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        os.replace(tmp, status_path)

    service = ReplicationService(feed, token, snapshot, write_status)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_replicas + 4, thread_name_prefix="rem-repl"),
                         options=SERVER_OPTIONS, maximum_concurrent_rpcs=max_replicas + 4)
    pb_grpc.add_ReplicationServicer_to_server(service, server)
    address = join_address(host, port)
    try:
        actual = server.add_secure_port(address, creds) if creds is not None else server.add_insecure_port(address)
    except RuntimeError as exc:
        raise DatabaseError(f"cannot listen on {address}: {exc}") from None
    if not actual:
        raise DatabaseError(f"cannot listen on {address} (the port is in use, or the address is not this "
                            f"machine's)")
    server.start()
    bound["address"] = join_address(host, actual)
    handle = ReplicationServer(server, service, host, actual, status_path, on_stop)
    write_status([])
    return handle
