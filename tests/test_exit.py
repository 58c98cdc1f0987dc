"""A process that never closes its database exits cleanly (status 0, no abort from native threads) and leaves
its writes and a saved, verified vector index behind: open databases are closed at interpreter exit."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rem_db import Database

CHILD = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    db.insert_batch("resources", [{"uri": f"u{i}", "content": f"text number {i} about lighthouses"}
                                  for i in range(int(sys.argv[2]))])
    if sys.argv[3] == "search":
        db.search("lighthouses", schema="resources")
    # no close(): the interpreter exits with the worker and the embedding model's threads still alive
""")


@pytest.mark.parametrize("then", ["search", "exit"])
def test_exit_without_close_is_clean_and_keeps_everything(tmp_path: Path, then: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    for run in range(4):  # the abort it guards against happened in about half of the runs
        path = tmp_path / f"db{run}"
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), "40", then], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-1000:]
        assert "terminate called" not in done.stderr
        with caplog.at_level(logging.WARNING, logger="rem_db.index"), Database(path) as db:
            assert db.count("resources") == 40
            assert db.search("text number 7 about lighthouses", schema="resources", top_k=1)[0][0]["uri"] == "u7"
        assert "rebuilding" not in caplog.text  # the index was saved at exit
