"""`rem search` and `rem index rebuild` (SPEC §6): thin calls into Database.search / rebuild_index."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from . import output
from .state import Format, FormatOption, state_of

SNIPPET = 80
index_app = typer.Typer(help="Vector index maintenance.", no_args_is_help=True)


def _key(entity: dict[str, Any]) -> str:
    for name in ("uri", "key", "name", "title"):
        if isinstance(entity.get(name), str):
            return entity[name]
    return entity["id"]


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to look for, in plain words.")],
    schema: Annotated[str | None, typer.Option("--schema", "-s", help="Search one table (default: all).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="How many results (1-10000).")] = 10,
    where: Annotated[str | None, typer.Option("--where", help="SQL filter applied before ranking.")] = None,
    hybrid: Annotated[bool, typer.Option("--hybrid", help="Fuse BM25 keyword ranking with vectors.")] = False,
    include_deleted: Annotated[bool, typer.Option("--include-deleted")] = False,
    fmt: FormatOption = None,
) -> None:
    """Semantic search: best matches first, with their score."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    db = state.open(ctx, write=False)
    hits = db.search(text, schema=schema, top_k=top_k, where=where, hybrid=hybrid, include_deleted=include_deleted)
    if fmt is Format.table:
        table = output.new_table("score", "table", "key", "snippet", "id")
        for entity, score in hits:
            output.add_row(table, (f"{score:.3f}", entity["entity_type"], output.cell(_key(entity), 40),
                                   _snippet(db.embedded_text(entity)), entity["id"]))
        output.show(table)
        output.message(f"{len(hits)} result{'s' if len(hits) != 1 else ''}")
    else:
        output.emit([{"_score": score, **entity} for entity, score in hits], fmt)


@index_app.command("rebuild")
def rebuild(ctx: typer.Context,
            table: Annotated[str, typer.Argument(metavar="TABLE", help="Table to re-embed.")]) -> None:
    """Re-embed TABLE with its current provider (after P8_DEFAULT_EMBEDDING changed) and rebuild its index."""
    state = state_of(ctx)
    db = state.open(ctx, write=True)
    done = db.rebuild_index(table)
    output.message(f"re-embedded {done} row{'s' if done != 1 else ''} of {table}")


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.add_typer(index_app, name="index")
