"""Fixtures for the CLI tests: the real `rem` executable run in subprocesses against a tmp_path database."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from cli_helpers import PRODUCTS_SCHEMA, Rem


@pytest.fixture
def rem(tmp_path: Path) -> Rem:
    return Rem.in_tmp(tmp_path)


@pytest.fixture
def products_file(tmp_path: Path) -> Path:
    path = tmp_path / "products.json"
    path.write_text(json.dumps(PRODUCTS_SCHEMA, indent=2))
    return path


@pytest.fixture
def products_table(rem: Rem) -> str:
    """A database with the `products` table, registered through the library (`rem schema add` has its own
    tests; this keeps the suite fast)."""
    from rem_db import Database

    with Database(rem.db_path) as db:
        db.register_schema(copy.deepcopy(PRODUCTS_SCHEMA))
    return "products"
