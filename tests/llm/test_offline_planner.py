"""The offline planner on the example shop: one test per question family, checking the plan it writes (query
type, query text, bound parameters, confidence) and, where it matters, the rows the plan finds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from shop_helpers import build_shop

from rem_db import Database
from rem_db.llm.offline import OfflinePlanner
from rem_db.llm.plan import EXPLAIN_BELOW, QueryPlan

NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = build_shop(tmp_path_factory.mktemp("shop") / "db")
    with Database(path, read_only=True) as db:
        yield db


def plan(db: Database, question: str, schema: str | None = None) -> QueryPlan:
    return OfflinePlanner(now=lambda: NOW).plan(db._core.ask.context(question, schema))


def run(db: Database, p: QueryPlan) -> list[dict[str, Any]]:
    return db.query(p.primary_query.query_string, p.primary_query.parameters or None)


def test_a_name_in_the_question_is_a_lookup_by_its_key(shop: Database) -> None:
    p = plan(shop, "show me the fiddle leaf fig")
    assert p.query_type == "lookup" and p.primary_query.query_string == "LOOKUP :p1"
    assert p.primary_query.parameters == {"p1": "Fiddle Leaf Fig"}  # the key as stored (Title Case)
    assert [r["name"] for r in run(shop, p)] == ["Fiddle Leaf Fig"]
    assert p.confidence >= 0.9 and p.explanation is None
    typo = plan(shop, "show me the fidle leaf fig")
    assert typo.primary_query.parameters == {"p1": "PL-2003"}  # found fuzzily, looked up by its product code


def test_values_numbers_and_dates_become_bound_conditions(shop: Database) -> None:
    p = plan(shop, "pots under 10 euros")
    assert p.query_type == "sql"
    assert p.primary_query.query_string == 'SELECT * FROM "products" WHERE "price" < :p1 AND "category" = :p2'
    assert p.primary_query.parameters == {"p1": 10, "p2": "pots"}
    dated = plan(shop, "employees hired after March 2019")
    assert dated.primary_query.parameters == {"p1": "2019-04-01T00:00:00Z"}
    assert '"hired_on" >= :p1' in dated.primary_query.query_string
    relative = plan(shop, "customers who joined in the last 2 years")
    assert relative.primary_query.parameters == {"p1": "2023-06-16T12:00:00Z"}  # 730 days before NOW
    assert [r["product_code"] for r in run(shop, plan(shop, "products that are out of stock"))] != []


def test_counting_averages_grouping_and_ranking(shop: Database) -> None:
    assert run(shop, plan(shop, "how many orders are pending")) == [{"count": 2}]
    average = plan(shop, "average price of plants")
    assert average.primary_query.query_string.startswith('SELECT AVG("price")')
    assert run(shop, average) == [{"avg_price": 23.5}]
    grouped = run(shop, plan(shop, "which category has the most products"))
    assert grouped == [{"category": "plants", "count": 6}]
    cheapest = plan(shop, "the 3 cheapest seeds")
    assert cheapest.primary_query.query_string.endswith('ORDER BY "price" ASC LIMIT 3')
    assert [r["product_code"] for r in run(shop, cheapest)] == ["SD-5001", "SD-5002", "SD-5003"]


@pytest.mark.parametrize(("question", "direction", "rel", "expected"), [
    ("who supplies the Monstera Deliciosa", "out", "supplied_by", {"SUP-01"}),
    ("which products does Terra Ceramics make", "in", "supplied_by",
     {"PP-1001-SM", "PP-1002-LG", "PP-1003-MD", "PP-1004-LG", "PP-1005-SM"}),
    ("who reports to Marco Bianchi", "in", "reports_to", {"EMP-04", "EMP-05"}),
    ("who does Tom Ellis report to", "out", "reports_to", {"EMP-02"}),
    ("what's in order ORD-1006", "out", "contains", {"PP-1004-LG", "FT-6001"}),
])
def test_relation_words_walk_the_edge_type_in_the_right_direction(shop: Database, question: str, direction: str,
                                                                   rel: str, expected: set[str]) -> None:
    p = plan(shop, question)
    assert p.query_type == "traverse"
    assert p.primary_query.query_string == f"TRAVERSE FROM :p1 DEPTH 1 DIRECTION {direction} TYPE :p2"
    assert p.primary_query.parameters["p2"] == rel
    keys = {r.get("product_code") or r.get("supplier_code") or r.get("employee_id") for r in run(shop, p)}
    assert keys == expected
    assert [f.trigger for f in p.fallback_queries][:1] == ["no_results"]  # the other direction next


def test_descriptions_are_searched_and_conditions_make_it_hybrid(shop: Database) -> None:
    p = plan(shop, "how often should I repot")
    assert p.query_type == "search" and p.primary_query.query_string.startswith("SEARCH :p1")
    assert "HYBRID" in p.primary_query.query_string
    assert p.primary_query.parameters["p1"] == "how often should I repot"
    h = plan(shop, "waterproof pots under 20 euros")
    assert h.query_type == "hybrid"
    assert h.primary_query.query_string == \
        'SEARCH :p1 IN "products" HYBRID WHERE "price" < :p2 AND "category" = :p3 LIMIT 10'
    assert run(shop, h)[0]["product_code"] == "PP-1003-MD"


def test_the_schema_hint_wins_the_table_choice(shop: Database) -> None:
    p = plan(shop, "anything from Germany", schema="suppliers")
    assert p.primary_query.query_string.startswith('SELECT * FROM "suppliers"')
    assert [r["supplier_code"] for r in run(shop, p)] == ["SUP-03"]


def test_text_it_does_not_understand_is_a_low_confidence_search_with_an_explanation(shop: Database) -> None:
    p = plan(shop, "植物の水やりはどうすればいいですか")
    assert p.query_type == "search" and p.confidence < EXPLAIN_BELOW
    assert p.explanation and "not understood" in p.explanation
    assert p.primary_query.query_string == "SEARCH :p1 HYBRID LIMIT 10"
    assert p.next_steps


def test_plans_are_deterministic_and_never_hold_the_users_text(shop: Database) -> None:
    question = "gold customers in Lyon who joined before 2022"
    first, second = plan(shop, question), plan(shop, question)
    assert first == second
    assert first.primary_query.parameters == {"p1": "2022-01-01T00:00:00Z", "p2": "gold", "p3": "Lyon"}
    for word in ("gold", "Lyon", "2022"):
        assert word not in first.primary_query.query_string
    assert [r["customer_id"] for r in run(shop, first)] == ["CUST-001"]
