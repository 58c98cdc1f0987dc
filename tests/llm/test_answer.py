"""``--answer``'s writer: an answer from the result rows of a real database, citing only the ids it was shown."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_helpers import PRODUCTS
from fake_llm import FakeLLM
from rem_db import ConfigError, Database, LLMError
from rem_db.config import Settings
from rem_db.llm.answer import MAX_ROWS, NO_MODEL, write_answer

MADE_UP = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def rows(db: Database, products: str) -> list[dict]:
    db.insert_batch(products, [
        {"product_code": "PP-1", "name": "Plant pot, small", "price": 3.5, "category": "pots"},
        {"product_code": "PP-2", "name": "Plant pot, large", "price": 9.0, "category": "pots"},
        {"product_code": "WC-1", "name": "Watering can", "price": 12.0, "category": "tools"},
    ])
    return db.query("SELECT * FROM products WHERE category = :c ORDER BY price", {"c": "pots"})


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def settings_for(fake: FakeLLM, **more: object) -> Settings:
    return Settings.from_env(llm_base_url=fake.base_url, openai_api_key=fake.api_key, **more)


def test_answer_cites_only_rows_it_was_given(server: FakeLLM, rows: list[dict]) -> None:
    small, large = rows[0]["id"], rows[1]["id"]
    server.add(f"The small pot costs 3.5 [{small}] and the large one 9.0 [{large.upper()}, {MADE_UP}]. "
               f"A third pot exists [{MADE_UP}].")
    result = write_answer("openai:gpt-test", settings_for(server), "How much are the pots?", rows)
    assert result["cited_ids"] == [small, large]
    assert MADE_UP not in result["answer"]  # a made-up citation is taken out of the text too
    assert f"[{large}]" in result["answer"] and result["answer"].endswith("A third pot exists.")
    assert result["model"] == "openai:gpt-test"
    prompt = server.requests[0]
    assert "How much are the pots?" in prompt.last_user_text
    assert small in prompt.last_user_text and large in prompt.last_user_text and "Plant pot, large" in prompt.text
    assert "square brackets" in prompt.system


def test_default_model_from_the_settings(server: FakeLLM, rows: list[dict]) -> None:
    server.add(f"Yes [{rows[0]['id']}].")
    result = write_answer(None, settings_for(server, default_llm="anthropic:claude-test",
                                             anthropic_api_key=server.api_key), "Any pots?", rows)
    assert result == {"answer": f"Yes [{rows[0]['id']}].", "cited_ids": [rows[0]["id"]],
                      "model": "anthropic:claude-test"}
    assert server.requests[0].wire == "anthropic"


@pytest.mark.parametrize("model", [None, "offline"])
def test_answer_needs_a_model(model: str | None, rows: list[dict]) -> None:
    with pytest.raises(ConfigError) as info:
        write_answer(model, Settings.from_env(), "How much are the pots?", rows)
    assert str(info.value) == NO_MODEL


def test_no_rows_asks_no_model(server: FakeLLM) -> None:
    result = write_answer("openai:m", settings_for(server), "Any pots?", [])
    assert result["cited_ids"] == [] and "No rows" in result["answer"] and not server.requests


def test_prompt_is_capped_and_unshown_rows_cannot_be_cited(server: FakeLLM) -> None:
    many = [{"id": f"00000000-0000-4000-8000-{i:012d}", "name": f"row {i}", "body": "x" * 5000} for i in range(100)]
    late = many[MAX_ROWS + 5]["id"]
    server.add(f"Row zero [{many[0]['id']}] and a row it never saw [{late}].")
    result = write_answer("openai:m", settings_for(server), "What is there?", many)
    assert result["cited_ids"] == [many[0]["id"]]
    prompt = server.requests[0].last_user_text
    assert late not in prompt and len(prompt) < 20_000  # 100 rows of 5 kB were cut to the caps
    shown = [json.loads(line) for line in prompt.splitlines() if line.startswith("{")]
    assert 1 <= len(shown) <= MAX_ROWS and all(len(row["body"]) <= 401 for row in shown)


def test_model_failure_is_an_llm_error(rows: list[dict]) -> None:
    with FakeLLM(api_key="right") as fake, pytest.raises(LLMError, match="P8_OPENAI_API_KEY"):
        write_answer("openai:m", Settings.from_env(llm_base_url=fake.base_url, openai_api_key="wrong"), "q", rows)


def test_database_ask_with_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: ``Database.ask(..., answer=True)`` plans with the model, runs the plan, then writes the answer."""
    plan = {"query_type": "lookup", "confidence": 0.95,
            "primary_query": {"dialect": "rem", "query_string": "LOOKUP :k",
                              "parameters": [{"name": "k", "value": "PP-1"}]},
            "fallback_queries": [], "execution_mode": "single_pass", "schema_hints": ["products"],
            "reasoning": "A product code.", "explanation": None, "next_steps": []}
    answers: list[object] = [plan]
    with FakeLLM(lambda request: answers.pop(0) if answers else f"It costs 3.5 [{pot_id}] [{MADE_UP}].") as fake:
        monkeypatch.setenv("P8_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("P8_DEFAULT_LLM", "cerebras:llama-test")
        monkeypatch.setenv("CEREBRAS_API_KEY", fake.api_key or "")
        with Database(tmp_path / "db") as db:
            db.register_schema(copy.deepcopy(PRODUCTS))
            pot_id = db.insert("products", {"product_code": "PP-1", "name": "Small pot", "price": 3.5})["id"]
            result = db.ask("What does the product with code PP-1 cost?", answer=True)
    assert [row["name"] for row in result["results"]] == ["Small pot"]
    assert result["answer"] == {"answer": f"It costs 3.5 [{pot_id}].", "cited_ids": [pot_id],
                                "model": "cerebras:llama-test"}
    assert len(fake.requests) == 2
