"""Fixtures of the query tests: a real database with a typed `items` table and a schemaless `loose` one."""

from __future__ import annotations

import copy

import pytest
from query_helpers import ITEMS, LOOSE, item_rows

from rem_db import Database


@pytest.fixture
def shop(db: Database) -> Database:
    """``db`` with the `items` rows of :func:`query_helpers.item_rows` (and an empty `loose` table)."""
    db.register_schema(copy.deepcopy(ITEMS))
    db.register_schema(copy.deepcopy(LOOSE))
    db.insert_batch("items", item_rows())
    return db
