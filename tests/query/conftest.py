"""Fixtures of the query tests: a real database with a typed `items` table and a schemaless `loose` one."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
from query_helpers import ITEMS, LOOSE, item_rows

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem


@pytest.fixture
def shop(db: Database) -> Database:
    """``db`` with the `items` rows of :func:`query_helpers.item_rows` (and an empty `loose` table)."""
    db.register_schema(copy.deepcopy(ITEMS))
    db.register_schema(copy.deepcopy(LOOSE))
    db.insert_batch("items", item_rows())
    return db


@pytest.fixture
def rem(tmp_path: Path) -> Rem:
    """The real `rem` executable on a tmp_path database holding the `items` rows."""
    runner = Rem.in_tmp(tmp_path)
    with Database(runner.db_path) as db:
        db.register_schema(copy.deepcopy(ITEMS))
        db.insert_batch("items", item_rows())
    return runner
