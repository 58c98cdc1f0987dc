"""Fixtures of the graph tests: a `node` table (key field `name`) in a real tmp_path database."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
from graph_helpers import NODE

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem


@pytest.fixture
def nodes(db: Database) -> str:
    db.register_schema(copy.deepcopy(NODE))
    return "node"


@pytest.fixture
def rem(tmp_path: Path) -> Rem:
    """The real `rem` executable on a tmp_path database holding the `node` table."""
    runner = Rem.in_tmp(tmp_path)
    with Database(runner.db_path) as db:
        db.register_schema(copy.deepcopy(NODE))
    return runner
