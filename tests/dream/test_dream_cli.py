"""`rem dream` in a real subprocess, and a dream killed with SIGKILL (issue 17)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dream_helpers import END, START, fill

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem


@pytest.fixture
def rem(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rem:
    runner = Rem.in_tmp(tmp_path)
    assert runner.db_path == db_path
    with Database(db_path) as db:
        fill(db, monkeypatch)
    return runner


def test_dry_run_prints_the_moments_and_stores_nothing(rem: Rem, db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = rem("dream", "--start", START, "--end", END, "--dry-run", "--output", str(out))
    assert result.code == 0, result.err
    assert "Dream summary 2025-03-03 09:00" in result.out and "communication" in result.out
    assert "would store 4 moments from 3 periods" in result.err
    report = json.loads(out.read_text())
    assert report["dry_run"] is True and len(report["moments"]) == 4
    with Database(db_path) as db:
        assert db.count("moments") == 0


def test_json_report_and_idempotent_cli_runs(rem: Rem, db_path: Path) -> None:
    first = rem("--format", "json", "dream", "--start", START, "--end", END)
    assert first.code == 0, first.err
    second = rem("dream", "--start", START, "--end", END, "--format", "json")
    assert [m["id"] for m in second.json()["moments"]] == [m["id"] for m in first.json()["moments"]]
    assert second.json()["stored"] is True and "stored 4 moments" in second.err
    with Database(db_path, read_only=True) as db:
        assert db.count("moments") == 4


@pytest.mark.parametrize(("args", "message"), [
    (["--lookback-hours", "-2"], "error: lookback_hours (--lookback-hours) must be"),
    (["--start", "soon"], "error: start (--start) 'soon' is not an ISO-8601 time"),
    (["--start", END, "--end", START], "error: end (--end) 2025-03-03T00:00:00.000000Z is not after start"),
    (["--llm", "nobody:model"], "error: unknown model 'nobody:model'"),
])
def test_bad_input_is_one_line_on_stderr(rem: Rem, args: list[str], message: str) -> None:
    assert rem.fails("dream", *args).err.startswith(message)


CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    print("ready", flush=True)
    ends = ["2025-03-06T00:00:00Z", "2025-03-07T00:00:00Z"]  # two windows holding the same rows
    n = 0
    while True:
        db.dream(start="2025-03-03T00:00:00Z", end=ends[n % 2])
        print(n, flush=True)
        n += 1
""")


def test_a_killed_dream_leaves_the_old_state_or_the_new(rem: Rem, db_path: Path) -> None:
    """Each dream replaces the other window's moments; SIGKILL lands inside one: after reopening, every moment
    belongs to one window and the edges agree in both directions."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready", child.stderr
        for _ in range(3):  # a few dreams committed; the kill lands in a later one
            assert child.stdout.readline(), child.stderr.read() if child.stderr else ""
        time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with Database(db_path) as db:
        moments = list(db.rows("moments"))
        assert len(moments) == 4
        assert len({m["metadata"]["dream"]["window"]["end"] for m in moments}) == 1
        ids = {m["id"] for m in moments}
        for moment in moments:
            for edge in db.edges(moment["id"], "out", "contains"):
                if edge["dst"] not in ids:  # a row: it points back
                    back = {e["dst"] for e in db.edges(edge["dst"], "out", "captured_in")}
                    assert back == {moment["id"]}
        rows = [r for table in ("resources", "messages", "sessions", "people") for r in db.rows(table)]
        for row in rows:
            assert {e["dst"] for e in db.edges(row["id"], "out", "captured_in")} <= ids
