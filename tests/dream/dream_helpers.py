"""Helpers of the dreaming tests (imported as ``dream_helpers``): a database whose rows carry chosen
``created_at`` times across several days.

The database owns system timestamps (an insert ignores a given ``created_at``), so the fixture sets the clock
the entity engine stamps writes with (``rem_db.entities.engine.now_iso``) while it inserts; everything else is
the real database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rem_db import Database
from rem_db.storage.codec import format_timestamp

DAY1 = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
PEOPLE = {
    "title": "people",
    "type": "object",
    "description": "People the user knows, keyed by name.",
    "properties": {"name": {"type": "string"}, "role": {"type": "string"}},
    "required": ["name"],
    "key_field": "name",
}
#: the window that holds every fixture row (days 1 to 3)
START, END = "2025-03-03T00:00:00Z", "2025-03-06T00:00:00Z"


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, when: datetime) -> Iterator[None]:
    """Writes inside the block are stamped ``when``."""
    with monkeypatch.context() as patch:
        patch.setattr("rem_db.entities.engine.now_iso", lambda: format_timestamp(when))
        yield


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAY1.replace(day=DAY1.day + day - 1, hour=hour, minute=minute)


def fill(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Rows across three days (and a person a week before):

    - day 1, 09:00-09:40: four resources about the analytical engine, naming Ada Lovelace (a person row);
    - day 2, 14:00-14:10: a session with three messages planning a launch;
    - day 3, 10:00: two resources about gardening (a quiet gap of hours before them).
    """
    db.register_schema(dict(PEOPLE))
    with clock(monkeypatch, datetime(2025, 2, 24, 8, tzinfo=UTC)):  # a week before the window
        ada = db.insert("people", {"name": "Ada Lovelace", "role": "mathematician"})
    day1 = []
    for n in range(4):
        with clock(monkeypatch, at(1, 9, n * 10)):
            day1.append(db.insert("resources", {
                "uri": f"file:///notes/engine-{n}.md", "name": f"Engine notes {n}", "category": "research",
                "tags": ["engine"],
                "content": f"Ada Lovelace wrote about the analytical engine and its punched cards, note {n}. "
                           f"The analytical engine computes Bernoulli numbers."}))
    with clock(monkeypatch, at(2, 14)):
        session = db.insert("sessions", {"session_id": "s-launch", "user_id": "u-1"})
    messages = []
    for n, (role, text) in enumerate([("user", "Let's plan the launch checklist for Friday."),
                                      ("assistant", "The launch checklist has five steps; the deadline is Friday."),
                                      ("user", "Great, thanks! Add a rollback step to the launch checklist.")]):
        with clock(monkeypatch, at(2, 14, n * 5)):
            messages.append(db.insert("messages", {"message_id": f"m-{n}", "session_id": "s-launch", "role": role,
                                                   "content": text}))
    day3 = []
    for n in range(2):
        with clock(monkeypatch, at(3, 10, n)):
            day3.append(db.insert("resources", {
                "uri": f"file:///garden/{n}.md", "category": "garden",
                "content": f"Monstera deliciosa needs bright indirect light and weekly watering, tip {n}."}))
    return {"ada": ada, "day1": day1, "session": session, "messages": messages, "day3": day3}


def open_db(path: Path) -> Database:
    return Database(path)


def dreamed(db: Database) -> list[dict[str, Any]]:
    """The stored moments, by start time then name."""
    return sorted(db.rows("moments"), key=lambda m: (m["start_time"], m["name"]))


def edge_set(db: Database, ident: str, rel: str, direction: str = "out") -> set[tuple[str, str, str]]:
    return {(e["src"], e["dst"], e["created_at"]) for e in db.edges(ident, direction, rel)}
