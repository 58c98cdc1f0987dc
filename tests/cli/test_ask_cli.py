"""`rem ask` through the real executable: table output with the plan summary, --format json, --plan, --answer
offline, bad input, and schema discovery in a fresh read-only process over more than ten tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from cli_helpers import Rem

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Rem:
    tmp = tmp_path_factory.mktemp("shop-cli")
    rem = Rem.in_tmp(tmp)
    spec = importlib.util.spec_from_file_location("shop_load", ROOT / "examples" / "shop" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with module.build(rem.db_path):
        pass
    return rem


def test_ask_prints_the_rows_and_a_one_line_plan_summary(shop: Rem) -> None:
    result = shop.ok("ask", "pots under 10 euros")
    assert "PP-1001-SM" in result.out and "Terracotta Pot, small" in result.out
    assert 'sql (confidence 0.95, 1 stage, offline): SELECT * FROM "products" WHERE "price" < :p1 AND ' \
           '"category" = :p2 {"p1":10,"p2":"pots"}' in result.err


def test_format_json_prints_the_whole_structure(shop: Rem) -> None:
    data = shop.ok("ask", "who reports to Marco Bianchi", "--format", "json").json()
    assert data["query_type"] == "traverse" and data["planner"] == "offline"
    assert {r["employee_id"] for r in data["results"]} == {"EMP-04", "EMP-05"}
    assert data["stage_results"][0]["query"] == "TRAVERSE FROM :p1 DEPTH 1 DIRECTION in TYPE :p2"
    assert set(data["plan"]) >= {"query_type", "confidence", "primary_query", "fallback_queries"}


def test_plan_prints_the_plan_without_running_it(shop: Rem) -> None:
    result = shop.ok("ask", "how many orders are pending", "--plan")
    plan = json.loads(result.out)
    assert plan["primary_query"]["query_string"] == 'SELECT COUNT(*) AS count FROM "orders" WHERE "status" = :p1'
    assert "stage" not in result.err and "row" not in result.err  # nothing ran
    assert result.err.startswith("sql (confidence")


def test_options_reach_the_planner(shop: Rem) -> None:
    data = shop.ok("ask", "anything from Germany", "--schema", "suppliers", "--max-stages", "1",
                   "--format", "json").json()
    assert [r["supplier_code"] for r in data["results"]] == ["SUP-03"] and data["stages"] == 1
    assert shop.ok("ask", "pots", "--model", "offline", "--format", "json").json()["planner"] == "identifier"


@pytest.mark.parametrize(("args", "message"), [
    (("ask", "pots under 10 euros", "--answer"), "--answer needs a model"),
    (("ask", "  "), "ask needs a question: it is empty"),
    (("ask", "pots", "--schema", "warehouse"), "unknown schema 'warehouse'"),
    (("ask", "pots under 10", "--max-stages", "0"), "max_stages must be a whole number from 1 to 10"),
    (("ask", "pots under 10", "--model", "nobody:x"), "unknown model 'nobody:x'"),
])
def test_bad_input_is_an_error_line_and_exit_code_1(shop: Rem, args: tuple[str, ...], message: str) -> None:
    result = shop(*args)
    assert result.code == 1 and result.err.startswith("error: ") and message in result.err
    assert "Traceback" not in result.err


def test_discovery_works_from_the_first_question_of_a_read_only_process(tmp_path: Path) -> None:
    rem = Rem.in_tmp(tmp_path)
    rem.ok("init")
    topics = {"invoices": "Invoices sent to clients, with amounts due and payment dates.",
              "vehicles": "Company cars and vans: plate number, model and kilometres driven.",
              "recipes": "Cooking recipes with ingredients and preparation steps.",
              "tickets": "Customer support tickets: the problem reported and its status.",
              "rooms": "Meeting rooms that can be booked, with capacity and floor.",
              "books": "Library books: title, author and ISBN.",
              "patients": "Hospital patients and their diagnoses.",
              "flights": "Airline flights with departure and arrival airports.",
              "songs": "Music tracks with artist, album and length.",
              "gardens": "Community garden plots and who tends them.",
              "courses": "University courses with credits and lecturers."}
    for name, description in topics.items():
        path = tmp_path / f"{name}.json"
        measure = "kilometres" if name == "vehicles" else "size"
        path.write_text(json.dumps({"title": name, "type": "object", "description": description,
                                    "properties": {"label": {"type": "string"}, measure: {"type": "number"}}}))
        rem.ok("schema", "add", str(path))
    # nothing embedded the schema descriptions (registration embeds lazily, `ask` opens read-only): discovery
    # embeds them itself, picks 3 of the 11 tables, and the planner finds the one that answers
    plan = rem.ok("ask", "which car has driven the most kilometres", "--plan").json()
    assert plan["schema_hints"] == ["vehicles"]
    assert plan["primary_query"]["query_string"] == 'SELECT * FROM "vehicles" ORDER BY "kilometres" DESC LIMIT 1'
