"""The LLM planner over a fake chat server: the prompt, structured output validated into a QueryPlan, the repair
round, and the offline planner's plan (with the reason) when the model's answer or the model cannot be used.

The queries of a plan are checked against a real database holding the schemas the planner is offered."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core_helpers import PRODUCTS
from fake_llm import FakeLLM, Slow, Status
from rem_db import Database, DatabaseError, LLMError
from rem_db.config import Settings
from rem_db.llm.context import FieldInfo, PlanContext, SchemaInfo
from rem_db.llm.plan import QueryPlan
from rem_db.llm.planner import choose_planner, planner_providers
from rem_db.query.parse import parse

QUESTION = "Which products are in category pots, cheapest first?"
PRODUCT_INFO = SchemaInfo(
    name="products", description="Products for sale, keyed by product code.", key_field="product_code",
    row_count=2, fields=(
        FieldInfo("product_code", "string", indexed=False),
        FieldInfo("name", "string"),
        FieldInfo("price", "number", indexed=True),
        FieldInfo("category", "string", indexed=True, enum=("pots", "tools")),
    ))


def plan_json(query: str = "SELECT name, price FROM products WHERE category = :c ORDER BY price",
              parameters: Any = None, **changes: Any) -> dict[str, Any]:
    """A plan as a model writes it (parameters as name/value pairs)."""
    plan = {
        "query_type": "sql", "confidence": 0.9,
        "primary_query": {"dialect": "sql", "query_string": query,
                          "parameters": [{"name": "c", "value": "pots"}] if parameters is None else parameters},
        "fallback_queries": [{"dialect": "rem", "query_string": "SEARCH :t IN products LIMIT 5",
                              "parameters": [{"name": "t", "value": "pots"}], "trigger": "no_results"}],
        "execution_mode": "multi_stage", "schema_hints": ["products"], "reasoning": "A category filter.",
        "explanation": None, "next_steps": [],
    }
    plan.update(changes)
    return plan


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CEREBRAS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def context(db: Database) -> PlanContext:
    db.register_schema(copy.deepcopy(PRODUCTS))
    db.insert_batch("products", [{"product_code": "PP-1", "name": "Plant pot", "price": 3.5, "category": "pots"},
                                 {"product_code": "WC-1", "name": "Watering can", "price": 12.0, "category": "tools"}])

    def validate(plan: QueryPlan) -> str | None:
        for query in [plan.primary_query, *plan.fallback_queries]:
            try:
                if query.query_string.lstrip().upper().startswith("SEARCH"):
                    parse(query.query_string)  # a search would embed its text: the syntax is enough here
                else:
                    db.query(query.query_string, query.parameters)
            except DatabaseError as exc:
                return str(exc)
        return None

    return PlanContext(question=QUESTION, schemas=[PRODUCT_INFO], edge_types=["supplied_by"],
                       edge_ends={"supplied_by": [("products", "suppliers")]}, validate=validate)


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def settings_for(fake: FakeLLM, provider: str = "openai", **more: Any) -> Settings:
    key = {"openai": "openai_api_key", "anthropic": "anthropic_api_key", "cerebras": "cerebras_api_key"}[provider]
    return Settings.from_env(llm_base_url=fake.base_url, **{key: fake.api_key}, **more)


def offline_plan(context: PlanContext) -> QueryPlan:
    return choose_planner("offline", Settings.from_env()).plan(context)


def same_as_offline(plan: QueryPlan, context: PlanContext) -> bool:
    return plan.model_dump(exclude={"explanation"}) == offline_plan(context).model_dump(exclude={"explanation"})


def test_providers_are_registered() -> None:
    assert {"offline", "openai", "anthropic", "cerebras"} <= set(planner_providers())
    assert choose_planner("anthropic:claude-test", Settings.from_env()).name == "anthropic:claude-test"


@pytest.mark.parametrize("provider", ["openai", "anthropic", "cerebras"])
def test_plan_from_each_provider(provider: str, server: FakeLLM, context: PlanContext) -> None:
    server.add(plan_json())
    plan = choose_planner(f"{provider}:m", settings_for(server, provider)).plan(context)
    assert plan.query_type == "sql" and plan.confidence == 0.9
    assert plan.primary_query.parameters == {"c": "pots"}  # name/value pairs became the QueryPlan's mapping
    assert plan.fallback_queries[0].trigger == "no_results"
    request = server.requests[0]
    assert len(server.requests) == 1
    # the prompt carries the offered schema, the edge types, the grammar, the rules and the question
    assert "table products (2 rows)" in request.text and "category: string (indexed) one of ['pots', 'tools']" \
        in request.text
    assert "Edge types: supplied_by (products -> suppliers)" in request.text
    assert "TRAVERSE FROM" in request.system and "Never put quoted text from the question" in request.system
    assert request.question == QUESTION
    if provider == "anthropic":
        assert request.body["tool_choice"] == {"type": "tool", "name": "query_plan"}
    else:
        assert request.body["response_format"]["json_schema"]["name"] == "query_plan"


def test_schema_hint_reaches_the_prompt(server: FakeLLM, context: PlanContext) -> None:
    server.add(plan_json())
    context.schema_hint = "products"
    choose_planner("openai:m", settings_for(server)).plan(context)
    assert "The user asked to use table products." in server.requests[0].text


def test_malformed_json_is_repaired(server: FakeLLM, context: PlanContext) -> None:
    server.add('{"query_type": "sql", "confidence": 0.9, oops', plan_json())
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert plan.primary_query.parameters == {"c": "pots"}
    repair = server.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"query_type": "sql", "confidence": 0.9, oops'}
    assert "not valid JSON" in repair[-1]["content"]


def test_wrong_fields_are_repaired(server: FakeLLM, context: PlanContext) -> None:
    wrong = {"query_type": "sql", "confidence": 0.9, "query": "SELECT name FROM products"}
    server.add(wrong, plan_json())
    plan = choose_planner("anthropic:m", settings_for(server, "anthropic")).plan(context)
    assert plan.query_type == "sql"
    error = server.requests[1].messages[-1]["content"]
    assert "primary_query: Field required" in error and "query: Extra inputs are not permitted" in error


def test_pasted_literal_is_repaired(server: FakeLLM, context: PlanContext) -> None:
    pasted = plan_json("SELECT name, price FROM products WHERE category = 'pots' ORDER BY price", parameters=[])
    server.add(pasted, plan_json())
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert "'pots'" not in plan.primary_query.query_string and plan.primary_query.parameters == {"c": "pots"}
    error = server.requests[1].last_user_text
    assert "pastes 'pots' from the question" in error and ":name" in error


def test_query_the_database_rejects_is_repaired(server: FakeLLM, context: PlanContext) -> None:
    server.add(plan_json("SELECT name, colour FROM products WHERE category = :c"), plan_json())
    plan = choose_planner("cerebras:m", settings_for(server, "cerebras")).plan(context)
    assert "colour" not in plan.primary_query.query_string
    error = server.requests[1].last_user_text
    assert "colour" in error and "unknown column" in error  # the query engine's own message went back


def test_unbound_placeholder_is_repaired(server: FakeLLM, context: PlanContext) -> None:
    server.add(plan_json(parameters=[]), plan_json())
    choose_planner("openai:m", settings_for(server)).plan(context)
    assert "uses :c but parameters has no value for it" in server.requests[1].last_user_text


def test_low_confidence_needs_an_explanation(server: FakeLLM, context: PlanContext) -> None:
    server.add(plan_json(confidence=0.3), plan_json(confidence=0.3, explanation="pots may be a tag"))
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert plan.explanation == "pots may be a tag"
    assert "needs an explanation" in server.requests[1].last_user_text


def test_two_bad_answers_fall_back_to_the_offline_plan(server: FakeLLM, context: PlanContext) -> None:
    server.add("not json at all", plan_json("SELECT name FROM products WHERE category = 'pots'", parameters=[]))
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert len(server.requests) == 2  # one repair round, no more
    assert same_as_offline(plan, context)
    assert plan.explanation is not None
    assert plan.explanation.startswith("the plan of openai:m was rejected after a repair round")
    assert "pastes 'pots'" in plan.explanation and "offline planner's plan is used" in plan.explanation


def test_server_errors_fall_back(server: FakeLLM, context: PlanContext) -> None:
    server.add(*[Status(500, message="the model is down")] * 3)
    plan = choose_planner("openai:m", settings_for(server, llm_timeout=1)).plan(context)
    assert same_as_offline(plan, context)
    assert "could not be used" in (plan.explanation or "") and "the model is down" in (plan.explanation or "")


def test_rate_limit_past_the_wait_limit_falls_back(server: FakeLLM, context: PlanContext) -> None:
    server.add(Status(429, retry_after=600))
    plan = choose_planner("anthropic:m", settings_for(server, "anthropic", llm_timeout=2)).plan(context)
    assert same_as_offline(plan, context) and "rate limited" in (plan.explanation or "")


def test_rate_limit_then_plan(server: FakeLLM, context: PlanContext) -> None:
    server.add(Status(429, retry_after=1), plan_json())
    started = time.monotonic()
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert time.monotonic() - started >= 1.0 and plan.primary_query.parameters == {"c": "pots"}


def test_slow_model_falls_back_in_bounded_time(server: FakeLLM, context: PlanContext) -> None:
    server.add(Slow(60, then=plan_json()))
    started = time.monotonic()
    plan = choose_planner("openai:m", settings_for(server, llm_timeout=0.5)).plan(context)
    assert time.monotonic() - started < 30  # the model would have taken a minute
    assert same_as_offline(plan, context) and "within 0.5 s" in (plan.explanation or "")


def test_wrong_key_raises(context: PlanContext) -> None:
    with FakeLLM([plan_json()], api_key="right") as fake:
        settings = Settings.from_env(llm_base_url=fake.base_url, anthropic_api_key="wrong")
        with pytest.raises(LLMError) as info:
            choose_planner("anthropic:m", settings).plan(context)
    assert info.value.kind == "auth" and "ANTHROPIC_API_KEY" in str(info.value)


def test_missing_key_raises(context: PlanContext) -> None:
    with pytest.raises(LLMError, match=r"no API key .*CEREBRAS_API_KEY"):
        choose_planner("cerebras:m", Settings.from_env()).plan(context)


def test_plan_in_a_code_fence_is_accepted(server: FakeLLM, context: PlanContext) -> None:
    server.add("Here is the plan:\n```json\n" + json.dumps(plan_json()) + "\n```")
    plan = choose_planner("openai:m", settings_for(server)).plan(context)
    assert plan.primary_query.parameters == {"c": "pots"} and len(server.requests) == 1


def test_database_ask_runs_the_models_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: ``Database.ask`` with a model; the ask service's own check sends a bad query back once."""
    good = plan_json(fallback_queries=[], execution_mode="single_pass")
    with FakeLLM([plan_json("SELECT name, colour FROM products WHERE category = :c"), good]) as fake:
        monkeypatch.setenv("P8_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", fake.api_key or "")
        with Database(tmp_path / "db") as db:
            db.register_schema(copy.deepcopy(PRODUCTS))
            db.insert_batch("products", [
                {"product_code": "PP-2", "name": "Big pot", "price": 9.0, "category": "pots"},
                {"product_code": "PP-1", "name": "Small pot", "price": 3.5, "category": "pots"},
                {"product_code": "WC-1", "name": "Watering can", "price": 12.0, "category": "tools"}])
            result = db.ask(QUESTION, model="openai:gpt-test")
    assert result["planner"] == "openai:gpt-test" and result["query_type"] == "sql"
    assert [row["name"] for row in result["results"]] == ["Small pot", "Big pot"]
    assert "products" in fake.requests[0].text and "colour" in fake.requests[1].last_user_text
