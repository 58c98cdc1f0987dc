"""`rem backup`, `rem restore` and `rem stats` through the real executable."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from cli_helpers import Rem

PRODUCTS = [{"product_code": f"P-{n}", "price": n + 0.5, "tags": ["a"] if n % 2 else []} for n in range(40)]
DOCS = [
    {"uri": "doc://bees", "content": "Bees make honey from the nectar of flowers."},
    {"uri": "doc://rail", "content": "High-speed trains run on dedicated rail lines between cities."},
]


def load_products(rem: Rem) -> None:
    """Rows written through the library (`rem insert` has its own tests; this keeps the suite fast)."""
    from rem_db import Database

    with Database(rem.db_path) as db:
        db.insert_batch("products", PRODUCTS)


def test_backup_and_restore_round_trip_quietly_in_pipes(rem: Rem, products_table: str, tmp_path: Path) -> None:
    load_products(rem)
    rem.ok("insert", "resources", "--batch", input="\n".join(json.dumps(d) for d in DOCS))
    done = rem.ok("backup", str(tmp_path / "bk"))
    assert done.out == ""  # the summary is a note on stderr; one line, no progress drawing in a pipe
    assert done.err.startswith("backed up ") and done.err.count("\n") == 1 and "commit " in done.err
    assert "\x1b" not in done.err
    restored = tmp_path / "restored"
    summary = rem.ok("--db-path", str(restored), "--format", "json", "restore", str(tmp_path / "bk"), db=False).json()
    assert summary["path"] == str(restored) and summary["sequence"] > 0
    again = Rem(rem.exe, restored, rem.env, rem.cwd)
    assert again.count("products") == 40
    hits = again.ok("--format", "json", "search", "honey", "-k", "1").json()
    assert hits[0]["uri"] == "doc://bees"


def test_backup_refuses_an_existing_destination(rem: Rem, products_table: str, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    result = rem.fails("backup", str(tmp_path / "taken"))
    assert "backup target" in result.err and "already exists" in result.err
    assert list((tmp_path / "taken").iterdir()) == []
    missing = rem.fails("--db-path", str(tmp_path / "nothing"), "backup", str(tmp_path / "bk"), db=False)
    assert "no database at" in missing.err and not (tmp_path / "nothing").exists()


def test_restore_refuses_a_non_empty_target_and_a_directory_that_is_no_backup(
        rem: Rem, products_table: str, tmp_path: Path) -> None:
    load_products(rem)
    rem.ok("backup", str(tmp_path / "bk"))
    result = rem.fails("restore", str(tmp_path / "bk"))  # --db-path is the live database: not empty
    assert "is not empty" in result.err and "restore into a new or empty directory" in result.err
    assert rem.count("products") == 40
    other = tmp_path / "other"
    not_backup = rem.fails("--db-path", str(other), "restore", str(rem.db_path), db=False)
    assert "is not a REM backup" in not_backup.err and not other.exists()


HOLDER = textwrap.dedent("""
    import sys
    from rem_db import Database

    db = Database(sys.argv[1])
    db.insert("products", {"product_code": "HELD", "price": 1.0})
    print("holding", flush=True)
    sys.stdin.read()
    db.close()
""")


def test_backup_beside_a_process_holding_the_database(rem: Rem, products_table: str, tmp_path: Path) -> None:
    load_products(rem)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(rem.db_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=rem.env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        done = rem.ok("backup", str(tmp_path / "bk"))
        assert "held read-write" in done.err and "backing up what a read-only open sees" in done.err
    finally:
        holder.communicate("", timeout=30)
    copy = Rem(rem.exe, tmp_path / "bk", rem.env, rem.cwd)
    assert copy.count("products") == 41  # the holder's unflushed commit is in the copy


def test_backup_draws_its_steps_on_a_terminal(rem: Rem, products_table: str, tmp_path: Path) -> None:
    code, drawn = rem.on_terminal("backup", str(tmp_path / "bk"), input="")
    assert code == 0 and b"backing up to" in drawn and b"backed up" in drawn


def test_stats_as_tables_and_json(rem: Rem, products_table: str) -> None:
    load_products(rem)
    text = rem.ok("stats").out
    for fragment in ("replication role", "WAL sequence", "products", "disk", "entities", "wal", "total"):
        assert fragment in text
    figures = rem.ok("stats", "products", "--format", "json").json()
    assert figures["tables"] == {"products": 40} and figures["table"] == "products"
    assert figures["details"]["products"] == {"rows": 40, "embedding": None, "vector_index": None}
    assert figures["replication"] == {"role": "none"} and figures["encrypted"] is False
    assert figures["wal"]["sequence"] == figures["wal_seq"] > 0 and figures["disk"]["entities"] > 0
    unknown = rem.fails("stats", "nope")
    assert "nope" in unknown.err
