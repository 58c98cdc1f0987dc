"""Shared fixtures: a real RocksDB-backed Database in tmp_path and a few user tables."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_helpers import ARTICLES, NOTES, PRODUCTS
from rem_db import Database


@pytest.fixture(autouse=True)
def _no_p8_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own path, tenant and settings: P8_* variables of the caller's shell do not leak in."""
    for name in [n for n in os.environ if n.startswith("P8_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(db_path)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def products(db: Database) -> str:
    db.register_schema(copy.deepcopy(PRODUCTS))
    return "products"


@pytest.fixture
def articles(db: Database) -> str:
    db.register_schema(copy.deepcopy(ARTICLES))
    return "articles"


@pytest.fixture
def notes(db: Database) -> str:
    db.register_schema(copy.deepcopy(NOTES))
    return "notes"
