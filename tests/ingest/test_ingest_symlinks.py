"""Folder ingest stays inside the folder (issue 18, item 11): a symbolic link to a file elsewhere (``/etc/...``,
the database's own ``LOG``) is reported as skipped, not ingested, unless ``follow_symlinks``; the database's
own directory is never ingested, however it is reached."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Rem

from rem_db import Database, IngestError


@pytest.fixture
def folder(tmp_path: Path, db: Database) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The launch codes are kept in the outside folder.\n")
    inside = tmp_path / "docs"
    (inside / "sub").mkdir(parents=True)
    (inside / "notes.txt").write_text("Meeting notes about the garden project.\n")
    (inside / "sub" / "more.txt").write_text("More notes about tomatoes.\n")
    (inside / "secret-link.txt").symlink_to(outside / "secret.txt")
    (inside / "db-log.txt").symlink_to(db.path.resolve() / "LOG")
    (inside / "linked-dir").symlink_to(outside, target_is_directory=True)
    (inside / "same-folder-link.txt").symlink_to(inside / "notes.txt")
    return inside


def _names(report) -> dict[str, str]:
    return {Path(f.path).name: f.status for f in report.files}


def test_links_out_of_the_folder_are_skipped_and_named(db: Database, folder: Path) -> None:
    report = db.ingest(folder, recursive=True)
    statuses = _names(report)
    assert statuses["notes.txt"] == "added" and statuses["more.txt"] == "added"
    assert statuses["same-folder-link.txt"] == "added"  # it stays inside the folder
    assert statuses["secret-link.txt"] == "skipped" and statuses["linked-dir"] == "skipped"
    assert statuses["db-log.txt"] == "skipped"
    reasons = {Path(f.path).name: f.reason for f in report.skipped}
    assert "outside the folder" in reasons["secret-link.txt"] and "--follow-symlinks" in reasons["secret-link.txt"]
    assert "database directory" in reasons["db-log.txt"]
    assert db.query("SELECT content FROM resources WHERE content LIKE '%launch codes%'") == []


def test_follow_symlinks_reaches_outside_but_never_the_database(db: Database, folder: Path) -> None:
    statuses = _names(db.ingest(folder, recursive=True, follow_symlinks=True))
    assert statuses["secret-link.txt"] == "added"
    assert statuses["db-log.txt"] == "skipped"
    assert len(db.query("SELECT id FROM resources WHERE content LIKE '%launch codes%'")) == 2  # link + linked dir


def test_the_database_directory_itself_is_refused(db: Database) -> None:
    with pytest.raises(IngestError, match="inside the database directory"):
        db.ingest(db.path)
    with pytest.raises(IngestError, match="inside the database directory"):
        db.ingest(db.path / "LOG")


def test_the_cli_flag(tmp_path: Path) -> None:
    rem = Rem.in_tmp(tmp_path)
    rem.ok("init")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A note about apples.\n")
    (tmp_path / "elsewhere.txt").write_text("A note about pears.\n")
    (docs / "b.txt").symlink_to(tmp_path / "elsewhere.txt")
    plain = rem.ok("--format", "json", "ingest", str(docs)).json()
    assert plain["summary"]["skipped"] == 1
    followed = rem.ok("--format", "json", "ingest", str(docs), "--follow-symlinks").json()
    assert followed["summary"]["added"] == 1
