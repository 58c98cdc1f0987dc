"""Fixtures of the ingest tests: a session-scoped database with part of the real corpus ingested (the
embedding model runs ~100 texts/s, so the tests that only read share it), and the `rem` runner."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import CORPUS

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, object]]:
    """The corpus (12 business documents) ingested once per test session: ``(db, report)``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("P8_")]:
            patch.delenv(name)
        db = Database(tmp_path_factory.mktemp("corpus") / "db")
        try:
            report = db.ingest(CORPUS, glob="doc-*")
            yield db, report
        finally:
            db.close()


@pytest.fixture
def rem(tmp_path: Path) -> Rem:
    return Rem.in_tmp(tmp_path)
