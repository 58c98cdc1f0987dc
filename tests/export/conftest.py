"""Fixtures of the export tests: the `items` table in a real tmp_path database, and the `rem` runner."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from export_helpers import ITEMS, item_rows

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem


@pytest.fixture
def items(db: Database) -> list[dict[str, Any]]:
    """The `items` table with six rows, one soft-deleted extra row and two edges; returns the live rows."""
    db.register_schema(copy.deepcopy(ITEMS))
    written = db.insert_batch("items", item_rows())
    gone = db.insert("items", {"name": "Deleted one", "qty": 99, "tags": ["x"]})
    db.delete(gone["id"])
    db.add_edge(written[0]["id"], written[1]["id"], "pairs_with", {"since": 2024, "note": "ok"})
    db.add_edge(written[0]["id"], written[2]["id"], "próximo")
    return list(db.rows("items"))


@pytest.fixture
def rem(tmp_path: Path) -> Rem:
    """The real `rem` executable on a tmp_path database holding the `items` rows."""
    runner = Rem.in_tmp(tmp_path)
    with Database(runner.db_path) as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.insert_batch("items", item_rows())
    return runner
