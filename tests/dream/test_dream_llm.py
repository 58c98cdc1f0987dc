"""Dreaming with a chat model (issue 17) against the fake OpenAI-compatible server on 127.0.0.1: a valid answer
is stored as written; a malformed answer, a moment for a period not given, or a timeout falls back to the
offline summariser for that chunk, and the report says so; a wrong key is an error, not a fallback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dream_helpers import END, START, fill

from fake_llm import FakeLLM, Malformed, Request, Slow
from rem_db import Database, LLMError


def good_answer(request: Request) -> dict[str, Any]:
    """One moment per period the request lists."""
    labels = re.findall(r"## period (p\d+)", request.last_user_text)
    return {"moments": [{"period": label, "name": f"Model moment {label}", "summary": f"The model saw {label}.",
                         "moment_type": "planning", "tags": ["model"], "people": ["Grace Hopper"],
                         "emotion_tags": ["focused"]} for label in labels],
            "period_summary": "A model-written summary of the window."}


@pytest.fixture
def llm_db(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, FakeLLM]]:
    with FakeLLM() as fake:
        monkeypatch.setenv("P8_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", fake.api_key or "")
        monkeypatch.setenv("P8_LLM_TIMEOUT", "0.5")
        db = Database(db_path)
        try:
            fill(db, monkeypatch)
            yield db, fake
        finally:
            db.close()


def test_valid_answer_is_stored(llm_db: tuple[Database, FakeLLM]) -> None:
    db, fake = llm_db
    fake.responder = good_answer
    report = db.dream(start=START, end=END, llm="openai:fake-model")
    assert report["llm"] == "openai:fake-model" and report["fallbacks"] == []
    periods = [m for m in report["moments"] if m["metadata"]["dream"]["kind"] == "period"]
    assert [m["name"] for m in periods] == ["Model moment p0", "Model moment p1", "Model moment p2"]
    assert all(m["moment_type"] == "planning" and m["people"] == ["Grace Hopper"] for m in periods)
    assert report["summary"] == "A model-written summary of the window."
    assert len(fake.requests) == 1  # the whole window fits one chunk
    sent = fake.requests[0]
    assert "analytical engine" in sent.text and sent.body["response_format"]["type"] == "json_schema"
    stored = {m["id"]: m for m in db.rows("moments")}
    assert stored[periods[0]["id"]]["summary"] == "The model saw p0."
    assert stored[periods[0]["id"]]["metadata"]["dream"]["summariser"] == "openai:fake-model"
    # times and edges come from the rows, not from the model
    assert periods[0]["start_time"] == "2025-03-03T09:00:00.000000Z"
    assert len(db.edges(periods[0]["id"], "out", "contains")) == 5


def test_default_llm_setting_is_used(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(good_answer) as fake:
        for name, value in {"P8_LLM_BASE_URL": fake.base_url, "P8_OPENAI_API_KEY": fake.api_key or "",
                            "P8_DEFAULT_LLM": "openai:fake-model"}.items():
            monkeypatch.setenv(name, value)
        with Database(db_path) as db:
            fill(db, monkeypatch)
            assert db.dream(start=START, end=END, dry_run=True)["llm"] == "openai:fake-model"
            assert db.dream(start=START, end=END, dry_run=True, llm="offline")["llm"] is None


@pytest.mark.parametrize(("answer", "reason"), [
    (Malformed("{the moments are"), "not valid JSON"),
    ({"moments": [{"period": "p0"}]}, "does not fit the schema"),
    ({"moments": [{"period": "p9", "name": "x", "summary": "y"}]}, "period 'p9', which was not given"),
    ({"moments": []}, "no moment for period p0"),
    (Slow(3, {"moments": []}), "within 0.5 s (P8_LLM_TIMEOUT)"),
])
def test_unusable_answers_fall_back_to_offline(llm_db: tuple[Database, FakeLLM], answer: Any, reason: str) -> None:
    db, fake = llm_db
    offline = db.dream(start=START, end=END, dry_run=True)
    fake.add(answer)
    report = db.dream(start=START, end=END, llm="openai:fake-model")
    assert len(report["fallbacks"]) == 1
    fallback = report["fallbacks"][0]
    assert fallback["chunk"] == 0 and fallback["periods"] == [0, 1, 2]
    assert reason in fallback["reason"]
    assert [m["name"] for m in report["moments"]] == [m["name"] for m in offline["moments"]]
    assert report["stored"] and db.count("moments") == 4


def test_long_windows_go_in_chunks_each_with_its_own_fallback(llm_db: tuple[Database, FakeLLM],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from rem_db.dream import llm

    db, fake = llm_db
    monkeypatch.setattr(llm, "CHUNK_CHARS", 400)  # a small model context: one period per chunk
    answers = iter([good_answer, lambda request: Malformed("nope"), good_answer])
    fake.responder = lambda request: next(answers)(request)
    report = db.dream(start=START, end=END, llm="openai:fake-model")
    assert len(fake.requests) == 3
    assert [f["periods"] for f in report["fallbacks"]] == [[1]]
    names = [m["name"] for m in report["moments"]][:3]
    assert names[0] == "Model moment p0" and names[2] == "Model moment p2"
    assert names[1].startswith("Communication 2025-03-04 14:00")


def test_a_wrong_key_is_an_error_not_a_fallback(llm_db: tuple[Database, FakeLLM]) -> None:
    db, fake = llm_db
    fake.api_key = "another-key"
    with pytest.raises(LLMError, match="authentication failed"):
        db.dream(start=START, end=END, llm="openai:fake-model")
    assert db.count("moments") == 0
