"""Dreaming (SPEC §12, issue 17): windows, periods, moments, edges, dry runs and idempotency, offline."""

from __future__ import annotations

from typing import Any

import pytest
from dream_helpers import END, START, dreamed, edge_set, fill

from rem_db import Database, ValidationError


@pytest.fixture
def filled(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return fill(db, monkeypatch)


def test_rows_across_days_become_one_moment_per_period(db: Database, filled: dict[str, Any]) -> None:
    report = db.dream(start=START, end=END)
    assert report["window"] == {"start": "2025-03-03T00:00:00.000000Z", "end": "2025-03-06T00:00:00.000000Z"}
    assert [p["tables"] for p in report["periods"]] == [{"resources": 4}, {"sessions": 1, "messages": 3},
                                                        {"resources": 2}]
    assert report["stored"] and report["llm"] is None and report["fallbacks"] == []
    moments = dreamed(db)
    assert len(moments) == 4  # three periods and the window's summary
    by_kind = {m["metadata"]["dream"]["kind"] + str(m["metadata"]["dream"].get("period", "")): m for m in moments}
    engine, launch, garden, summary = by_kind["period0"], by_kind["period1"], by_kind["period2"], by_kind["summary"]
    assert (engine["start_time"], engine["end_time"]) == ("2025-03-03T09:00:00.000000Z", "2025-03-03T09:30:00.000000Z")
    assert engine["moment_type"] == "learning" and launch["moment_type"] == "communication"
    assert sorted(engine["resource_ids"]) == sorted(r["id"] for r in filled["day1"])
    assert launch["session_ids"] == ["s-launch"] and launch["resource_ids"] == []
    assert "analytical engine" in engine["summary"] and "launch checklist" in launch["summary"]
    assert engine["people"] == ["Ada Lovelace"]  # recognised through the key index
    assert "research" in engine["tags"] and "engine" in engine["tags"] and "garden" in garden["tags"]
    assert "happy" in launch["emotion_tags"]
    assert summary["moment_type"] == "reflection" and summary["summary"] == report["summary"]
    # the moments are searchable like any row (their summary is embedded)
    found = db.search("punched cards of the analytical engine", schema="moments", top_k=1)
    assert found[0][0]["id"] == engine["id"]


def test_edges_link_both_directions(db: Database, filled: dict[str, Any]) -> None:
    report = db.dream(start=START, end=END)
    engine = next(m for m in report["moments"] if m["metadata"]["dream"].get("period") == 0)
    contained = {e["dst"] for e in db.edges(engine["id"], "out", "contains")}
    ada = filled["ada"]["id"]
    assert contained == {r["id"] for r in filled["day1"]} | {ada}  # the rows and the person they name
    for row in [*filled["day1"], filled["ada"]]:
        assert [e["dst"] for e in db.edges(row["id"], "out", "captured_in")] == [engine["id"]]
    assert {e["src"] for e in db.edges(engine["id"], "in", "captured_in")} == contained
    summary = next(m for m in report["moments"] if m["metadata"]["dream"]["kind"] == "summary")
    assert {e["dst"] for e in db.edges(summary["id"], "out", "contains")} == \
        {m["id"] for m in report["moments"] if m["id"] != summary["id"]}
    reached = {r["entity"]["id"] for r in db.traverse(ada, depth=2, direction="out")}
    assert engine["id"] in reached  # Ada -> captured_in -> the moment -> ...
    assert report["edges"] == {"contains": len(contained) + 6 + 3, "captured_in": len(contained) + 6}


def test_dry_run_stores_nothing(db: Database, filled: dict[str, Any]) -> None:
    sequence = db.wal_status()["sequence"]
    report = db.dream(start=START, end=END, dry_run=True)
    assert report["dry_run"] and not report["stored"] and len(report["moments"]) == 4
    assert db.count("moments") == 0
    assert db.edges(filled["day1"][0]["id"]) == []
    assert db.wal_status()["sequence"] == sequence  # not one commit
    # what a dry run shows is what a real dream stores
    stored = db.dream(start=START, end=END)
    assert [m["id"] for m in stored["moments"]] == [m["id"] for m in report["moments"]]
    assert [m["summary"] for m in stored["moments"]] == [m["summary"] for m in report["moments"]]


def test_dreaming_twice_replaces_never_duplicates(db: Database, filled: dict[str, Any]) -> None:
    first = db.dream(start=START, end=END)
    moments = dreamed(db)
    rows = [*filled["day1"], filled["ada"], *filled["messages"]]
    edges = {r["id"]: edge_set(db, r["id"], "captured_in") for r in rows}
    contains = {m["id"]: edge_set(db, m["id"], "contains") for m in moments}
    second = db.dream(start=START, end=END)
    assert [m["id"] for m in second["moments"]] == [m["id"] for m in first["moments"]]
    assert second["replaced"] == 0
    assert db.count("moments") == 4
    assert {r["id"]: edge_set(db, r["id"], "captured_in") for r in rows} == edges  # created_at kept too
    assert {m["id"]: edge_set(db, m["id"], "contains") for m in dreamed(db)} == contains
    # dreaming changes no row's modified_at, so rows never come back into a later window by being dreamed
    for row in rows:
        assert db.get(row["id"])["modified_at"] == row["modified_at"]


def test_a_wider_window_replaces_the_moments_inside_it(db: Database, filled: dict[str, Any]) -> None:
    db.dream(start="2025-03-03T00:00:00Z", end="2025-03-04T00:00:00Z")  # day 1 only
    day1 = dreamed(db)
    assert len(day1) == 2
    report = db.dream(start=START, end=END)
    assert report["replaced"] == 2
    ids = {m["id"] for m in dreamed(db)}
    assert len(ids) == 4 and not ids & {m["id"] for m in day1}
    for row in filled["day1"]:  # the old moment's edges went with it
        assert len(db.edges(row["id"], "out", "captured_in")) == 1


def test_a_redream_follows_changed_rows(db: Database, filled: dict[str, Any]) -> None:
    db.dream(start=START, end=END)
    gone = filled["day1"][0]["id"]
    db.delete(gone, hard=True)
    db.delete(filled["day1"][1]["id"])  # soft: left out of the next dream, its edge into the moment removed
    db.dream(start=START, end=END)
    engine = next(m for m in dreamed(db) if m["metadata"]["dream"].get("period") == 0)
    assert sorted(engine["resource_ids"]) == sorted(r["id"] for r in filled["day1"][2:])
    assert db.edges(filled["day1"][1]["id"], "out", "captured_in") == []


def test_moments_never_dream_about_moments(db: Database, filled: dict[str, Any]) -> None:
    db.dream(start=START, end=END)
    again = db.dream(start="2025-03-03T00:00:00Z", end="2099-01-01T00:00:00Z")  # also holds the new moments
    assert all("moments" not in p["tables"] for p in again["periods"])
    mine = db.insert("moments", {"name": "my own moment", "summary": "written by the user",
                                 "start_time": "2025-03-03T09:05:00Z", "end_time": "2025-03-03T09:06:00Z"})
    db.dream(start=START, end=END)
    assert db.get(mine["id"])["summary"] == "written by the user"  # a user's moment is never replaced


def test_an_empty_window_gives_an_empty_report(db: Database, filled: dict[str, Any]) -> None:
    report = db.dream(start="2024-01-01T00:00:00Z", end="2024-01-02T00:00:00Z")
    assert (report["periods"], report["moments"], report["summary"], report["stored"]) == ([], [], "", False)
    assert report["edges"] == {"contains": 0, "captured_in": 0}
    assert db.count("moments") == 0


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"lookback_hours": -1}, "lookback_hours"),
    ({"lookback_hours": 0}, "lookback_hours"),
    ({"lookback_hours": "24"}, "lookback_hours"),
    ({"start": "yesterday"}, "start"),
    ({"end": "2025-02-30T00:00:00Z"}, "end"),
    ({"start": "2025-03-02T00:00:00Z", "end": "2025-03-01T00:00:00Z"}, "end (--end) 2025-03-01"),
])
def test_bad_windows_are_validation_errors_naming_the_option(db: Database, kwargs: dict[str, Any],
                                                             named: str) -> None:
    with pytest.raises(ValidationError, match=named.replace("(", r"\(").replace(")", r"\)")):
        db.dream(**kwargs)
    assert db.count("moments") == 0


def test_read_only_database_dreams_only_dry(db_path: Any, db: Database, filled: dict[str, Any]) -> None:
    from rem_db import ReadOnlyError

    db.close()
    with Database(db_path, read_only=True) as ro:
        assert len(ro.dream(start=START, end=END, dry_run=True)["moments"]) == 4
        with pytest.raises(ReadOnlyError):
            ro.dream(start=START, end=END)


def test_async_mirror(db_path: Any, db: Database, filled: dict[str, Any]) -> None:
    import asyncio

    from rem_db import AsyncDatabase

    db.close()

    async def main() -> dict[str, Any]:
        async with AsyncDatabase(db_path) as adb:
            return await adb.dream(start=START, end=END)

    assert len(asyncio.run(main())["moments"]) == 4
