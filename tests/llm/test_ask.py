"""Database.ask on the example shop: the result structure, the identifier short-circuit, schema discovery over
more than P8_SCHEMA_BRUTE_FORCE_LIMIT tables, multi-stage execution, bad input, and the SEARCH … HYBRID form."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from shop_helpers import build_shop

from rem_db import AsyncDatabase, Database
from rem_db.config import Settings
from rem_db.errors import ConfigError, QueryError, SchemaError, ValidationError
from rem_db.llm.context import PlanContext
from rem_db.llm.discovery import discover
from rem_db.llm.plan import QueryPlan
from rem_db.llm.planner import register_planner

SPEC_PLAN_FIELDS = {"query_type", "confidence", "primary_query", "fallback_queries", "execution_mode",
                    "schema_hints", "reasoning", "explanation", "next_steps"}
SPEC_RESULT_FIELDS = {"results", "query", "query_type", "confidence", "stages", "stage_results", "total_time_ms",
                      "explanation"}


@pytest.fixture(scope="module")
def shop_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("shop") / "db")


@pytest.fixture(scope="module")
def shop(shop_path: Path) -> Iterator[Database]:
    with Database(shop_path, read_only=True) as db:
        yield db


class Scripted:
    """A planner that records its contexts and answers with a given plan (registered as ``scripted``)."""

    calls: ClassVar[list[PlanContext]] = []
    answer: ClassVar[dict[str, Any]] = {}

    name = "scripted"

    def plan(self, context: PlanContext) -> QueryPlan:
        Scripted.calls.append(context)
        return QueryPlan.model_validate(Scripted.answer)


register_planner("scripted", lambda model, settings: Scripted(), replace=True)


def scripted(primary: tuple[str, dict[str, Any]], *fallbacks: tuple[str, str, dict[str, Any]]) -> str:
    Scripted.calls.clear()
    Scripted.answer = {
        "query_type": "sql", "confidence": 0.9,
        "primary_query": {"dialect": "sql", "query_string": primary[0], "parameters": primary[1]},
        "fallback_queries": [{"dialect": "rem" if q.startswith(("SEARCH", "LOOKUP")) else "sql", "query_string": q,
                              "parameters": p, "trigger": t} for t, q, p in fallbacks],
        "execution_mode": "multi_stage"}
    return "scripted:test"


def test_the_result_and_the_plan_have_exactly_the_spec_fields(shop: Database) -> None:
    result = shop.ask("pots under 10 euros")
    assert set(result) >= SPEC_RESULT_FIELDS and set(result) - SPEC_RESULT_FIELDS == {"plan", "planner"}
    assert set(result["plan"]) == SPEC_PLAN_FIELDS
    assert set(result["plan"]["primary_query"]) == {"dialect", "query_string", "parameters"}
    fallbacks = result["plan"]["fallback_queries"]
    assert all(set(f) == {"dialect", "query_string", "parameters", "trigger"} for f in fallbacks)
    assert [r["product_code"] for r in result["results"]] == ["PP-1001-SM"]
    assert result["stages"] == 1 and result["planner"] == "offline"
    stage = result["stage_results"][0]
    assert stage["rows"] == 1 and stage["error"] is None and stage["outcome"] == "ok"
    assert stage["parameters"] == {"p1": 10, "p2": "pots"} and stage["time_ms"] >= 0
    planned = shop.ask("pots under 10 euros", execute=False)
    assert set(planned) == {"plan", "planner", "total_time_ms"} and planned["plan"] == result["plan"]


def test_an_identifier_is_a_lookup_without_asking_the_planner(shop: Database) -> None:
    model = scripted(("SELECT * FROM products", {}))
    result = shop.ask("PP-1002-LG", model=model)
    assert Scripted.calls == []
    assert result["query_type"] == "lookup" and result["confidence"] == 1.0 and result["planner"] == "identifier"
    assert [r["name"] for r in result["results"]] == ["Terracotta Pot, large"]
    shop.ask("pots that cost less than 5 euros", model=model)
    assert len(Scripted.calls) == 1  # a question is planned


def test_an_unknown_identifier_falls_back_to_a_search(shop: Database) -> None:
    result = shop.ask("monstera")
    assert [s["outcome"] for s in result["stage_results"]] == ["no_results", "ok"]
    assert result["query"] == "SEARCH :key HYBRID LIMIT 10"
    assert "Monstera Deliciosa" in [r.get("name") for r in result["results"]]


def test_a_no_results_fallback_runs_and_answers(shop: Database) -> None:
    model = scripted(('SELECT * FROM "products" WHERE "price" > :p', {"p": 10_000}),
                     ("error", "LOOKUP :k", {"k": "PP-1001-SM"}),
                     ("no_results", "LOOKUP :k", {"k": "PL-2001"}))
    result = shop.ask("anything at all", model=model)
    assert [(s["stage"], s["trigger"], s["rows"]) for s in result["stage_results"]] == \
        [(1, None, 0), (2, "no_results", 1)]
    assert result["query"] == "LOOKUP :k" and result["results"][0]["name"] == "Monstera Deliciosa"


def test_an_error_fallback_runs_and_the_error_is_reported(shop: Database) -> None:
    model = scripted(('SELECT * FROM "no_such_table"', {}), ("error", "LOOKUP :k", {"k": "SUP-02"}))
    result = shop.ask("anything at all", model=model)
    first, second = result["stage_results"]
    assert first["outcome"] == "error" and "no_such_table" in first["error"]
    assert second["trigger"] == "error" and second["rows"] == 1
    assert result["results"][0]["name"] == "Terra Ceramics"


def test_max_stages_is_honoured(shop: Database) -> None:
    model = scripted(('SELECT * FROM "products" WHERE "price" > :p', {"p": 10_000}),
                     ("no_results", 'SELECT * FROM "products" WHERE "price" > :p', {"p": 20_000}),
                     ("no_results", "LOOKUP :k", {"k": "PL-2001"}))
    assert shop.ask("anything at all", model=model, max_stages=1)["stages"] == 1
    assert shop.ask("anything at all", model=model, max_stages=2)["stages"] == 2
    assert shop.ask("anything at all", model=model, max_stages=3)["results"][0]["name"] == "Monstera Deliciosa"
    for bad in (0, 11, True, "3"):
        with pytest.raises(ValidationError, match="max_stages"):
            shop.ask("anything at all", max_stages=bad)  # type: ignore[arg-type]


def test_a_low_quality_search_runs_its_fallback(shop: Database) -> None:
    model = scripted(("SEARCH :q IN \"products\" HYBRID LIMIT 3", {"q": "zyxwv qwertz"}),
                     ("low_quality", "LOOKUP :k", {"k": "TL-3001"}))
    result = shop.ask("anything at all", model=model)
    assert [s["outcome"] for s in result["stage_results"]] == ["low_quality", "ok"]
    assert result["results"][0]["product_code"] == "TL-3001"


def test_bad_questions_are_clear_errors_or_low_confidence_plans(shop: Database) -> None:
    for empty in ("", "   \n"):
        with pytest.raises(ValidationError, match="empty"):
            shop.ask(empty)
    with pytest.raises(ValidationError, match="10,240 characters long; ask takes at most 2,000"):
        shop.ask("pots." * 2048)
    with pytest.raises(ValidationError, match="a question is a string"):
        shop.ask(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="lone surrogate"):
        shop.ask("pots \ud800")
    other = shop.ask("植物の水やりはどうすればいいですか")
    assert other["query_type"] == "search" and other["confidence"] < 0.6 and other["explanation"]
    with pytest.raises(SchemaError) as err:
        shop.ask("pots", schema="warehouse")
    assert "'warehouse'" in str(err.value) and "products" in str(err.value) and "suppliers" in str(err.value)


def test_sql_injection_is_a_bound_parameter_and_drops_nothing(shop_path: Path) -> None:
    attack = "'; DROP TABLE products; --"
    with Database(shop_path) as db:
        result = db.ask(attack)
        queries = [result["plan"]["primary_query"], *result["plan"]["fallback_queries"]]
        assert all("DROP" not in q["query_string"] for q in queries)
        assert attack in result["plan"]["primary_query"]["parameters"].values()
        assert db.count("products") == 24
        assert "products" in [s["short_name"] for s in db.list_schemas()]


def test_answer_needs_a_model(shop: Database) -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        shop.ask("pots under 10 euros", answer=True)
    with pytest.raises(ValidationError, match="execute=True"):
        shop.ask("pots under 10 euros", execute=False, answer=True, model="openai:gpt-4o-mini")


def test_the_validate_probe_checks_without_running(shop: Database) -> None:
    context = shop._core.ask.context("pots")

    def plan(query: str, params: dict[str, Any]) -> QueryPlan:
        return QueryPlan.model_validate({"query_type": "sql", "confidence": 0.9, "primary_query": {
            "dialect": "sql", "query_string": query, "parameters": params}})

    assert context.validate(plan('SELECT * FROM "products" WHERE "price" < :p', {"p": 5})) is None
    assert "unknown column 'cost'" in (context.validate(plan('SELECT * FROM "products" WHERE "cost" < :p',
                                                             {"p": 5})) or "")
    assert "unknown table" in (context.validate(plan("SELECT * FROM nothing", {})) or "")
    assert "price" in (context.validate(plan('SELECT * FROM "products" WHERE "price" < :p', {"p": "cheap"})) or "")
    assert "missing" in (context.validate(plan('SELECT * FROM "products" WHERE "price" < :p', {})) or "").lower() \
        or "parameter" in (context.validate(plan('SELECT * FROM "products" WHERE "price" < :p', {})) or "")
    assert "no embedding fields" in (context.validate(plan('SEARCH :q IN "customers"', {"q": "x"})) or "")


def test_discovery_offers_the_nearest_tables_when_there_are_many(tmp_path: Path) -> None:
    topics = {"invoices": "Invoices sent to clients, with amounts due and payment dates.",
              "vehicles": "Company cars and vans: plate number, model and mileage.",
              "recipes": "Cooking recipes with ingredients and preparation steps.",
              "tickets": "Customer support tickets: the problem reported and its status.",
              "rooms": "Meeting rooms that can be booked, with capacity and floor.",
              "books": "Library books: title, author and ISBN.",
              "patients": "Hospital patients and their diagnoses.",
              "flights": "Airline flights with departure and arrival airports.",
              "songs": "Music tracks with artist, album and length.",
              "plants": "Garden plants with their watering needs and sunlight.",
              "courses": "University courses with credits and lecturers."}
    with Database(tmp_path / "db") as db:
        for name, description in topics.items():
            db.register_schema({"title": name, "type": "object", "description": description,
                                "properties": {"name": {"type": "string", "description": "what it is called"}}})
        settings = Settings.from_env()
        assert settings.schema_brute_force_limit == 10 and settings.schema_search_top_k == 3
        core = db._core
        found = discover("which cars have driven the most kilometres", None, core.schemas, core.entities, settings,
                         core.embedder.providers)
        assert found[0].short_name == "vehicles" and len(found) == 3
        hinted = discover("which cars", "songs", core.schemas, core.entities, settings, core.embedder.providers)
        assert hinted[0].short_name == "songs" and "vehicles" in [t.short_name for t in hinted[1:]]
        model = scripted(("LOOKUP :k", {"k": "x"}))
        db.ask("how many flights leave from Amsterdam", model=model)
        assert Scripted.calls[-1].schemas[0].name == "flights"


def test_search_hybrid_form_fuses_keywords(shop: Database) -> None:
    fused = shop.query("SEARCH :q IN products HYBRID WHERE category = :c LIMIT 3", {"q": "terracotta", "c": "pots"})
    assert fused[0]["product_code"].startswith("PP-10") and len(fused) == 3
    assert fused[0]["_score"] < 0.1  # a fused (rank-based) score, not a cosine
    assert shop.explain("SEARCH 'pot' IN products HYBRID LIMIT 2")["steps"][0]["operation"] == "hybrid search"
    with pytest.raises(QueryError, match="expected IN table, WHERE or LIMIT"):
        shop.query("SEARCH 'x' IN products HYBRID HYBRID")


def test_async_database_asks_too(shop_path: Path) -> None:
    async def main() -> dict[str, Any]:
        async with AsyncDatabase(shop_path, read_only=True) as db:
            return await db.ask("how many orders are pending")

    assert asyncio.run(main())["results"] == [{"count": 2}]
