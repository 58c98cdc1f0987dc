"""Real processes for the replication fault tests (imported as ``procs``): a primary that writes the mixed
workload while serving, the `rem` replica command, and waits on what they report."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: args: path, port, first step, steps, seconds between writes ("serve": serve with Database.serve; "plain":
#: write without serving, for `rem serve` beside it). Prints "ready <seq>", then "<seq>" per write, then "done";
#: then keeps serving until stdin closes.
PRIMARY = r"""
import sys, time, copy
from compare import NOTES, register, write_step
from rem_db import Database
path, port, first, steps, pause, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    float(sys.argv[5]), sys.argv[6]
register()
db = Database(path)
db.register_schema(copy.deepcopy(NOTES))
server = db.serve(port=port) if mode == "serve" else None
print("ready", db._store.wal_seq(), flush=True)
for n in range(first, first + steps):
    write_step(db, n)
    print(db._store.wal_seq(), flush=True)
    if pause:
        time.sleep(pause)
print("done", flush=True)
sys.stdin.read()
db.close()
"""


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("P8_")}
    out["PYTHONPATH"] = os.pathsep.join([str(HERE), out.get("PYTHONPATH", "")])
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rem() -> str:
    sibling = Path(sys.executable).parent / "rem"
    return str(sibling) if sibling.exists() else "rem"


class Primary:
    """The primary child process."""

    def __init__(self, path: Path, port: int, first: int, steps: int, pause: float = 0.0,
                 mode: str = "serve") -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", PRIMARY, str(path), str(port), str(first), str(steps),
                                      str(pause), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env())
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("ready"), self.proc.stderr.read()  # type: ignore[union-attr]
        self.seq = int(line.split()[1])

    def acks(self, count: int | None = None) -> int:
        """Read acknowledged sequences until ``count`` more were read (or "done"); the last one."""
        read = 0
        while count is None or read < count:
            line = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"primary stopped: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            if line == "done":
                break
            self.seq = int(line)
            read += 1
        return self.seq

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def replicate(path: Path, port: int, *extra: str, follow: bool = True, **kwargs: Any) -> subprocess.Popen[str]:
    args = [rem(), "--db-path", str(path), "replicate", "--primary", f"127.0.0.1:{port}", *extra]
    if follow:
        args.append("--follow")
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), **kwargs)


def run_rem(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([rem(), *args], capture_output=True, text=True, env=env(), timeout=timeout)


def status(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((path / "replication-replica.json").read_text()))
    except (OSError, ValueError):
        return {}


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_position(path: Path, seq: int, timeout: float = 20.0) -> None:
    wait_until(lambda: status(path).get("position", 0) >= seq and status(path).get("state") == "synced", timeout,
               f"replica {path} at {seq} (now {status(path)})")


def stop(proc: subprocess.Popen[str], timeout: float = 15) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout)
    return out, err
