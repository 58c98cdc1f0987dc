"""Faults replication survives, with real processes and real gRPC on 127.0.0.1: kill -9 of the primary
mid-stream and of the replica mid-apply, the server stopped and started again later, a replica behind WAL
retention, and `rem serve` beside another writing process. After each, the replica holds exactly what the
primary holds (compare.assert_same) and the same WAL records, each once."""

from __future__ import annotations

import copy
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import procs
import pytest
from compare import NOTES, assert_same, hashing_provider, wal_records, write_step
from procs import Primary, free_port, replicate, run_rem, status, stop, wait_position, wait_until

from rem_db import Database


@pytest.fixture
def primary_db(tmp_path: Path) -> Iterator[Database]:
    with hashing_provider():
        db = Database(tmp_path / "primary")
        db.register_schema(copy.deepcopy(NOTES))
        try:
            yield db
        finally:
            db.close()


def same_records(primary: Path | Database, replica: Path) -> None:
    dbs = [Database(p, read_only=True) if isinstance(p, Path) else p for p in (primary, replica)]
    try:
        a, b = wal_records(dbs[0]), wal_records(dbs[1])
        assert [s for s, _ in b] == list(range(1, len(b) + 1)), "replica records have gaps or repeats"
        assert a == b
    finally:
        for given, db in zip((primary, replica), dbs, strict=True):
            if isinstance(given, Path):
                db.close()


def test_kill_9_primary_mid_stream_then_restart(tmp_path: Path) -> None:
    port = free_port()
    primary_path, replica_path = tmp_path / "primary", tmp_path / "replica"
    primary = Primary(primary_path, port, 0, 300, pause=0.002)
    follower = replicate(replica_path, port)
    try:
        wait_until(lambda: status(replica_path).get("position", 0) > 30, what="replica streaming")
        primary.acks(20)
        primary.kill()  # mid-stream: writing and sending
        wait_until(lambda: status(replica_path).get("state") in ("disconnected", "connecting"), what="disconnect")
        primary = Primary(primary_path, port, 300, 60)
        last = primary.acks()
        wait_position(replica_path, last)
        assert status(replica_path)["reconnects"] >= 1
    finally:
        primary.stop()
        _out, err = stop(follower)
    assert follower.returncode == 0, err
    assert_same(primary_path, replica_path)
    same_records(primary_path, replica_path)


@pytest.mark.long
def test_kill_9_primary_mid_stream_many_times(tmp_path: Path) -> None:
    """The primary killed ten times while it writes and streams, each time restarted with more writes."""
    port = free_port()
    primary_path, replica_path = tmp_path / "primary", tmp_path / "replica"
    primary = Primary(primary_path, port, 0, 200, pause=0.002)
    follower = replicate(replica_path, port)
    first = 200
    try:
        for _ in range(10):
            seen = status(replica_path).get("position", 0)
            wait_until(lambda seen=seen: status(replica_path).get("position", 0) > seen + 10, what="streaming")
            primary.acks(10)
            primary.kill()
            wait_until(lambda: status(replica_path).get("state") in ("disconnected", "connecting"),
                       what="disconnect")
            primary = Primary(primary_path, port, first, 200, pause=0.002)
            first += 200
        last = primary.acks()
        wait_position(replica_path, last, timeout=120)
    finally:
        primary.stop()
        _out, err = stop(follower)
    assert follower.returncode == 0, err
    assert_same(primary_path, replica_path)
    same_records(primary_path, replica_path)


def kill_replica_while_applying(primary: Database, replica_path: Path, port: int, rounds: int) -> None:
    """Kill -9 the replica ``rounds`` times while it receives and applies a steady stream of writes."""
    done = threading.Event()
    step = [10_000]

    def writer() -> None:
        while not done.is_set():
            write_step(primary, step[0])
            step[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(rounds):
            follower = replicate(replica_path, port)
            wait_until(lambda: status(replica_path).get("state") == "syncing"
                       or status(replica_path).get("applied", 0) > 0, what="replica applying")
            time.sleep(0.05)
            follower.send_signal(signal.SIGKILL)  # between receiving a batch and persisting it, or inside
            follower.wait(10)
    finally:
        done.set()
        thread.join()
    follower = replicate(replica_path, port)
    try:
        wait_position(replica_path, primary._store.wal_seq())
    finally:
        stop(follower)


def test_kill_9_replica_mid_apply(primary_db: Database, tmp_path: Path) -> None:
    for n in range(300):  # a backlog, so the first kill lands in the catch-up
        write_step(primary_db, n)
    port = free_port()
    primary_db.serve(port=port)
    replica_path = tmp_path / "replica"
    kill_replica_while_applying(primary_db, replica_path, port, rounds=2)
    assert_same(primary_db, replica_path)
    same_records(primary_db, replica_path)


@pytest.mark.long
def test_kill_9_replica_mid_apply_many_times(primary_db: Database, tmp_path: Path) -> None:
    for n in range(2000):
        write_step(primary_db, n)
    port = free_port()
    primary_db.serve(port=port)
    replica_path = tmp_path / "replica"
    kill_replica_while_applying(primary_db, replica_path, port, rounds=20)
    assert_same(primary_db, replica_path)
    same_records(primary_db, replica_path)


def test_network_drop_backoff_then_catch_up(primary_db: Database, tmp_path: Path) -> None:
    port = free_port()
    server = primary_db.serve(port=port)
    replica_path = tmp_path / "replica"
    follower = replicate(replica_path, port)
    try:
        for n in range(30):
            write_step(primary_db, n)
        wait_position(replica_path, primary_db._store.wal_seq())
        server.stop()  # the network is gone: the stream ends, connecting fails
        for n in range(30, 80):
            write_step(primary_db, n)
        wait_until(lambda: status(replica_path).get("reconnects", 0) >= 2, timeout=10, what="a retry with backoff")
        assert status(replica_path)["state"] in ("disconnected", "connecting")
        primary_db.serve(port=port)
        wait_position(replica_path, primary_db._store.wal_seq(), timeout=30)  # the next retry, at most 4 s later
    finally:
        _out, err = stop(follower)
    assert follower.returncode == 0, err
    assert "replica disconnected" in err and "replica synced" in err
    assert_same(primary_db, replica_path)


def test_replica_behind_retention_bootstraps_from_a_snapshot(primary_db: Database, tmp_path: Path) -> None:
    for n in range(40):
        write_step(primary_db, n)
    server = primary_db.serve(port=0)
    port = server.port
    behind, fresh = tmp_path / "behind", tmp_path / "fresh"
    done = run_rem("--db-path", str(behind), "replicate", "--primary", f"127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    for n in range(40, 90):
        write_step(primary_db, n)
    first = primary_db._store.trim_wal(primary_db._store.wal_seq() - 5)  # retention dropped the records it needs
    assert first > 60
    for path in (behind, fresh):  # a replica that fell behind, and a new one: both get a snapshot
        done = run_rem("--db-path", str(path), "replicate", "--primary", f"127.0.0.1:{port}", "--format", "json")
        assert done.returncode == 0, done.stderr
        assert_same(primary_db, path)
    follower = replicate(behind, port)  # and it goes on from the snapshot's sequence
    try:
        for n in range(90, 110):
            write_step(primary_db, n)
        wait_position(behind, primary_db._store.wal_seq())
    finally:
        stop(follower)
    assert_same(primary_db, behind)


def test_serve_beside_another_writing_process(tmp_path: Path) -> None:
    primary_path, replica_path = tmp_path / "primary", tmp_path / "replica"
    writer = Primary(primary_path, 0, 0, 200, pause=0.003, mode="plain")  # holds the directory read-write
    port = free_port()
    server = run_server(primary_path, port)
    follower = replicate(replica_path, port)
    try:
        last = writer.acks()
        wait_position(replica_path, last)
        assert_same(primary_path, replica_path)  # read-only opens beside both live processes
    finally:
        writer.stop()
        stop(follower)
        _out, err = stop(server)
    assert server.returncode == 0, err
    assert "serving" in err


def run_server(path: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([procs.rem(), "--db-path", str(path), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=procs.env())
    wait_until(lambda: (path / "replication-serve.json").exists() or proc.poll() is not None, what="server")
    assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
    return proc

