"""`rem search` and `rem index rebuild` (SPEC §6): thin calls into Database.search / rebuild_index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output
from .state import Format, FormatOption, state_of

if TYPE_CHECKING:
    from rem_db import Database

SNIPPET = 80  # characters of embedded text shown per hit
TABLE_NAME = 20  # widest table column; longer table names are shortened in the middle
SNIPPET_ROOM = 40  # cells the snippet keeps beside a long key (or half the room); the id column needs them too
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
    ef: Annotated[int | None, typer.Option("--ef", help="HNSW search breadth, from top-k to 10000 (default: the "
                                           "table's hnsw.ef_search, 64); higher: better recall, slower.")] = None,
    fmt: FormatOption = None,
) -> None:
    """Semantic search: best matches first, with their score."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    db = state.open(ctx, write=False)
    hits = db.search(text, schema=schema, top_k=top_k, where=where, hybrid=hybrid, include_deleted=include_deleted,
                     ef=ef)
    if fmt is Format.table:
        _table(db, hits)
        output.message(f"{len(hits)} result{'s' if len(hits) != 1 else ''}")
    else:
        output.emit([{"_score": score, **entity} for entity, score in hits], fmt)


def _table(db: Database, hits: list[tuple[dict[str, Any], float]]) -> None:
    """score | table | key | snippet [| id], fitted to the terminal (or $COLUMNS, or 200 in a pipe).

    The key is shortened in the middle (its tail tells chunks and files apart), the snippet takes the width
    left and wraps; the id column is shown only when the key and enough snippet fit beside it.
    """
    from rich.cells import cell_len

    rows = [(f"{score:.3f}", entity["entity_type"], output.one_line(_key(entity)),
             _snippet(db.embedded_text(entity)), entity["id"]) for entity, score in hits]
    score_w, table_w, key_w, snippet_w, id_w = (
        max([cell_len(name), *(cell_len(row[i]) for row in rows)])
        for i, name in enumerate(("score", "table", "key", "snippet", "id")))
    table_w = min(table_w, TABLE_NAME)
    total = output.console().width
    room = output.free_cells(total, 5, (score_w, table_w, id_w))
    with_id = room - key_w >= min(snippet_w, SNIPPET_ROOM)
    if not with_id:
        room = output.free_cells(total, 4, (score_w, table_w))
    key_room = max(min(key_w, max(room // 2, room - min(snippet_w, SNIPPET_ROOM))), 1)
    keys = [output.shorten_middle(row[2], key_room) for row in rows]
    key_w = max([cell_len("key"), *map(cell_len, keys)])  # a cut key may come out narrower than its room
    snippet_w = max(min(snippet_w, room - key_w), 1)
    columns = [("score", score_w), ("table", table_w), ("key", key_w), ("snippet", snippet_w)]
    table = output.sized_table(columns + ([("id", id_w)] if with_id else []), wrap=("snippet",))
    for (score, name, _, snippet, entity_id), key in zip(rows, keys, strict=True):
        cells = (score, output.shorten_middle(name, table_w), key, snippet)
        output.add_row(table, (*cells, entity_id) if with_id else cells)
    output.show(table)


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
