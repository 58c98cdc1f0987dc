"""`rem query` (SPEC §5, §13): SQL and the REM forms, printed as a table, JSON, JSON Lines or CSV."""

from __future__ import annotations

import re
import sys
import time
from typing import Annotated, Any

import typer

from . import output
from .errors import CliError, check_text, parse_json
from .state import Format, FormatOption, state_of

_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)

ParamOpt = Annotated[list[str] | None, typer.Option(
    "--param", "-p", metavar="[NAME=]VALUE",
    help="Bind a parameter: VALUE for each ? in order, NAME=VALUE for :name. VALUE is read as JSON when it "
         "is JSON (42, 1.5, true, null, \"text\", [1, 2] for IN ?), else as text.")]


def parse_params(items: list[str] | None) -> list[Any] | dict[str, Any] | None:
    """``--param`` values: a list (positional) or a mapping (named); mixing both is an error."""
    if not items:
        return None
    named: dict[str, Any] = {}
    positional: list[Any] = []
    for item in items:
        m = _NAMED.match(item)
        if m is not None:
            named[m.group(1)] = _value(m.group(2))
        else:
            positional.append(_value(item))
    if named and positional:
        raise CliError("give --param values either all as NAME=VALUE (for :name parameters) or all as VALUE "
                       "(for ? parameters)")
    return named or positional


def _value(text: str) -> Any:
    try:
        return parse_json(text, "--param")
    except CliError:
        return text


def _query_text(sql: str) -> str:
    if sql != "-":
        return sql
    text = check_text(sys.stdin.buffer.read(), "stdin")
    if not text.strip():
        raise CliError("stdin is empty: expected a query")
    return text


def _is_entity(row: dict[str, Any]) -> bool:
    return "id" in row and "entity_type" in row and "created_at" in row


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(metavar="QUERY", help="SELECT …, LOOKUP …, SEARCH …, TRAVERSE … (EXPLAIN in "
                                                              "front shows the plan), or - to read it from stdin.")],
    params: ParamOpt = None,
    include_deleted: Annotated[bool, typer.Option("--include-deleted", help="Include soft-deleted rows.")] = False,
    fmt: FormatOption = None,
) -> None:
    """Run a query and print its rows (a table on a terminal; --format json|jsonl|csv for pipes)."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    text = _query_text(sql)
    values = parse_params(params)
    db = state.open(ctx, write=False)
    started = time.perf_counter()
    rows = db.query(text, values, include_deleted=include_deleted)
    elapsed = (time.perf_counter() - started) * 1000
    if fmt is Format.table:
        if rows:
            if all(_is_entity(r) for r in rows):
                output.entities_table(rows)
            else:
                output.records_table(rows)
    else:
        output.emit(rows, fmt)
    if sys.stdout.isatty():
        output.message(f"{len(rows)} row{'' if len(rows) == 1 else 's'} ({elapsed:.1f} ms)")


def register(app: typer.Typer) -> None:
    app.command()(query)
