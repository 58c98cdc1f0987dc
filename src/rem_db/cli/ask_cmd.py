"""`rem ask` (SPEC §11, §13): a question in plain words -> a plan -> rows; a thin call into Database.ask."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from . import output
from .state import Format, FormatOption, state_of


def _summary(result: dict[str, Any]) -> str:
    plan = result["plan"]
    query = result.get("query") or plan["primary_query"]["query_string"]
    params = result.get("stage_results", [{}])[-1].get("parameters") if "stage_results" in result else \
        plan["primary_query"]["parameters"]
    shown = f" {output.one_line(params)}" if params else ""
    stages = f", {result['stages']} stage{'s' if result['stages'] != 1 else ''}" if "stages" in result else ""
    return (f"{plan['query_type']} (confidence {plan['confidence']:.2f}{stages}, {result['planner']}): "
            f"{query}{shown}")


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="What you want to know, in plain words.")],
    plan_only: Annotated[bool, typer.Option("--plan", help="Print the plan without running it.")] = False,
    schema: Annotated[str | None, typer.Option("--schema", "-s", help="The table the question is about "
                                                                      "(offered to the planner first).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Planner as provider:model (openai:…, "
                                                                    "anthropic:…, cerebras:…, offline) "
                                                                    "[default: P8_DEFAULT_LLM, else offline].")] = None,
    max_stages: Annotated[int, typer.Option("--max-stages", help="Most stages to run: the primary query and "
                                                                 "fallbacks (1-10).")] = 3,
    answer: Annotated[bool, typer.Option("--answer", help="Also write an answer from the rows, citing their ids "
                                                          "(needs a model).")] = False,
    fmt: FormatOption = None,
) -> None:
    """Ask a question: the planner writes a query plan, its stages run, the rows are printed with a one-line
    plan summary (--format json: the whole result, plan and stages included)."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    db = state.open(ctx, write=False)
    result = db.ask(question, execute=not plan_only, schema=schema, model=model, max_stages=max_stages,
                    answer=answer)
    if plan_only:
        if fmt is Format.table:
            output.emit(result["plan"], Format.json)
            output.message(_summary(result))
        else:
            output.emit(result, fmt)
        return
    if fmt is not Format.table:
        output.emit(result if fmt is Format.json else result["results"], fmt)
        return
    rows = result["results"]
    if rows:
        if all("id" in r and "entity_type" in r for r in rows):
            output.entities_table(rows)
        else:
            output.records_table(rows)
    if "answer" in result:
        print(result["answer"]["answer"])
    output.message(_summary(result))
    if result.get("explanation"):
        output.message(f"note: {result['explanation']}")
    failed = [s for s in result["stage_results"] if s["error"]]
    for stage in failed:
        output.message(f"stage {stage['stage']} failed: {stage['error']}")
    output.message(f"{len(rows)} row{'' if len(rows) == 1 else 's'} ({result['total_time_ms']:.1f} ms)")


def register(app: typer.Typer) -> None:
    app.command()(ask)
