"""`rem mcp` options and start-up refusals (real subprocesses), and the result caps (rem_db.mcp.results)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from mcp_helpers import READ_TOOLS, REM, make_database, server_env, stdio_client_for

from rem_db.mcp.results import Limits, capped_object, capped_rows


def rem(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REM, "--db-path", str(tmp / "db"), *args], capture_output=True, text=True,
                          env=server_env(tmp), timeout=60, stdin=subprocess.DEVNULL)


def test_option_mistakes(tmp_path: Path) -> None:
    root = rem(tmp_path, "mcp", "--root", str(tmp_path))
    assert root.returncode == 2 and "--root applies with --write only" in root.stderr
    both = rem(tmp_path, "--read-only", "mcp", "--write")
    assert both.returncode == 1 and "error: --write and --read-only contradict each other" in both.stderr
    missing = rem(tmp_path, "mcp")  # read-only never creates a database
    assert missing.returncode == 1 and "no database at" in missing.stderr and "Traceback" not in missing.stderr
    make_database(tmp_path / "db")
    not_dir = rem(tmp_path, "mcp", "--write", "--root", str(tmp_path / "nothing"))
    assert not_dir.returncode == 1 and "is not a folder" in not_dir.stderr


def test_write_without_root_has_no_ingest_tool(tmp_path: Path) -> None:
    make_database(tmp_path / "db")
    client = stdio_client_for(tmp_path / "db", tmp_path, "--write", errlog=tmp_path / "server.err")
    try:
        assert set(client.tools()) == READ_TOOLS | {"insert", "add_edge"}
    finally:
        client.close()
    assert "the ingest tool is off: give --root DIR" in (tmp_path / "server.err").read_text()


def test_missing_sdk_message(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['mcp'] = None; "
            f"sys.argv = ['rem', '--db-path', {str(tmp_path / 'db')!r}, 'mcp']; "
            "from rem_db.cli.main import run; run()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=server_env(tmp_path),
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: rem mcp needs the mcp extra: pip install 'rem-db[mcp]'"


def test_rows_capped_by_count_and_bytes_with_a_note() -> None:
    rows = [{"id": i, "text": "x" * 100} for i in range(30)]
    by_count = capped_rows(rows, Limits(max_rows=10, max_bytes=100_000), hint="add a LIMIT")
    assert by_count["count"] == 10 and by_count["total"] == 30 and by_count["truncated"] is True
    assert by_count["note"].startswith("showing 10 of 30 results") and by_count["note"].endswith("add a LIMIT")
    by_bytes = capped_rows(rows, Limits(max_rows=100, max_bytes=1_000))
    assert 0 < by_bytes["count"] < 10 and by_bytes["total"] == 30
    assert capped_rows(rows[:3], Limits()) == {"results": rows[:3], "count": 3}
    huge = capped_rows([{"text": "y" * 50_000}], Limits(max_bytes=10_000))
    assert huge["count"] == 1 and huge["truncated"] and len(huge["results"][0]["text"]) < 2_100


def test_vectors_never_sent() -> None:
    entity = {"id": "a", "embedding": np.ones(384, dtype=np.float32), "embedding_alt": [0.5] * 768,
              "nested": {"vector": [1.0] * 100}, "scores": [1, 2, 3], "when": np.float32(0.25)}
    shown = capped_object(entity, Limits())
    assert shown["embedding"] == "<vector of 384 numbers omitted>"
    assert shown["embedding_alt"] == "<vector of 768 numbers omitted>"
    assert shown["nested"]["vector"] == "<vector of 100 numbers omitted>"
    assert shown["scores"] == [1, 2, 3] and shown["when"] == 0.25
