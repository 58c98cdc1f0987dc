"""Entity commands: insert, upsert, get, update, delete, count, lookup (thin calls into :class:`Database`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import output
from .errors import CliError, json_argument
from .state import Format, FormatOption, state_of

if TYPE_CHECKING:
    from rem_db import Database

JsonArg = Annotated[str | None, typer.Argument(
    metavar="JSON", show_default=False,
    help="An entity as a JSON object, an array of objects (one atomic batch), or - to read it from stdin.")]
BatchOpt = Annotated[bool, typer.Option(
    "--batch", help="Read JSON Lines (one object per line) from stdin; one atomic batch per chunk.")]
ChunkOpt = Annotated[int, typer.Option(
    "--chunk-size", min=1, help="Lines per atomic batch with --batch.")]
TableArg = Annotated[str, typer.Argument(metavar="TABLE", help="Table name (see `rem schema list`).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Entity id (a UUID).")]
DeletedOpt = Annotated[bool, typer.Option("--include-deleted", help="Include soft-deleted entities.")]
AsyncOpt = Annotated[bool, typer.Option(
    "--async-embed", help="Write at once and embed in the background (tables with embedding fields).")]


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _write(ctx: typer.Context, op: str, table: str, data: str | None, batch: bool, chunk_size: int,
           fmt: Any, async_embed: bool = False) -> None:
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    verb = "inserted" if op == "insert" else "upserted"
    if batch and data is not None:
        raise typer.BadParameter("give either a JSON argument or --batch (JSON Lines on stdin), not both",
                                 param_hint="'JSON'")
    if not batch and data is None:
        raise typer.BadParameter("pass the entity as JSON, - to read it from stdin, or --batch for JSON Lines "
                                 "on stdin", param_hint="'JSON'")
    value = None if batch else json_argument(data or "")
    db = state.open(ctx, write=True)
    if batch:
        from .batch import load_progress

        if sys.stdin.isatty():
            output.message("reading JSON Lines from stdin (end with Ctrl-D)")
        with load_progress(table) as progress:
            loaded = db.insert_jsonl(table, sys.stdin.buffer, chunk_size=chunk_size, upsert=op == "upsert",
                                     async_embeddings=async_embed, return_entities=fmt is not Format.table,
                                     name="stdin", progress=progress)
        if not loaded.rows:
            raise CliError("stdin is empty: --batch expects JSON Lines (one JSON object per line)")
        if fmt is not Format.table:
            output.print_entities(loaded.entities, fmt)
        output.message(f"{verb} {_rows(loaded.rows)} into {table}")
    elif isinstance(value, list):
        results = db.insert_batch(table, value, async_embeddings=async_embed)
        output.print_entities(results, fmt)
        output.message(f"{verb} {_rows(len(results))} into {table}")
    else:
        entity = db.insert(table, value, async_embeddings=async_embed)
        output.print_entities(entity, fmt)


def insert(ctx: typer.Context, table: TableArg, data: JsonArg = None, batch: BatchOpt = False,
           chunk_size: ChunkOpt = 1000, async_embed: AsyncOpt = False, fmt: FormatOption = None) -> None:
    """Insert entities into TABLE (an existing id makes it an upsert)."""
    _write(ctx, "insert", table, data, batch, chunk_size, fmt, async_embed)


def upsert(ctx: typer.Context, table: TableArg, data: JsonArg = None, batch: BatchOpt = False,
           chunk_size: ChunkOpt = 1000, async_embed: AsyncOpt = False, fmt: FormatOption = None) -> None:
    """Insert or replace entities of TABLE (same id: user fields replaced, created_at kept)."""
    _write(ctx, "upsert", table, data, batch, chunk_size, fmt, async_embed)


def get(ctx: typer.Context, id: IdArg, include_deleted: DeletedOpt = False,
        with_embeddings: Annotated[bool, typer.Option(
            "--with-embeddings", help="Add the stored vectors (embedding, embedding_alt).")] = False,
        fmt: FormatOption = None) -> None:
    """Print the entity with this id."""
    state = state_of(ctx)
    entity = state.open(ctx, write=False).get(id, include_deleted=include_deleted,
                                              include_embeddings=with_embeddings)
    output.print_entities(entity, state.fmt(fmt))


def update(ctx: typer.Context, id: IdArg,
           data: Annotated[str, typer.Argument(metavar="JSON", help="Fields to change (a JSON object), or -.")],
           fmt: FormatOption = None) -> None:
    """Merge JSON into the entity's user fields (fields not named are kept) and print the result."""
    state = state_of(ctx)
    patch = json_argument(data)
    entity = state.open(ctx, write=True).update(id, patch)
    output.print_entities(entity, state.fmt(fmt))


def delete(ctx: typer.Context, id: IdArg,
           hard: Annotated[bool, typer.Option("--hard", help="Remove the entity, its index entries and "
                                                              "edges instead of marking it deleted.")] = False,
           ) -> None:
    """Soft-delete an entity (sets deleted_at), or remove it for good with --hard."""
    state_of(ctx).open(ctx, write=True).delete(id, hard=hard)
    output.message(f"hard-deleted {id}" if hard else f"deleted {id} (soft; `rem get --include-deleted` shows it)")


def count(ctx: typer.Context, table: TableArg, include_deleted: DeletedOpt = False,
          where: Annotated[str | None, typer.Option(
              "--where", help="Count only rows matching this SQL condition (e.g. \"price > 10 AND tags = 'x'\").")]
          = None, fmt: FormatOption = None) -> None:
    """Print the number of entities in TABLE (matching --where, counted by the query engine)."""
    state = state_of(ctx)
    n = state.open(ctx, write=False).count(table, include_deleted=include_deleted, where=where)
    output.emit({"table": table, "count": n}, state.fmt(fmt), lambda d: print(d["count"]))


def lookup(ctx: typer.Context,
           keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="Key values (uri, key field, key or "
                                                                              "name), any table.")],
           include_deleted: DeletedOpt = False,
           fuzzy: Annotated[bool, typer.Option(
               "--fuzzy", help="Also match with typos, other case or word order, best first, with a score "
                               "(1.0: exact).")] = False,
           limit: Annotated[int | None, typer.Option(
               "--limit", "-n", help="With --fuzzy: matches per key (1-10000; default 10).")] = None,
           fmt: FormatOption = None) -> None:
    """Find entities of any table by key: exact, or --fuzzy with a score (table: one line per key and match;
    json: the entities, with _score under --fuzzy and _lookup when several keys are given)."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    if limit is not None and not fuzzy:
        raise typer.BadParameter("--limit applies to --fuzzy lookups only", param_hint="'--limit'")
    db = state.open(ctx, write=False)
    if fuzzy:
        _lookup_fuzzy(db, keys, 10 if limit is None else limit, include_deleted, fmt)
        return
    found = db.lookup_batch(keys, include_deleted=include_deleted)
    matches = [(k, e) for k in keys for e in found.get(k, [])]
    if not matches:
        output.message(f"no entity matches {', '.join(map(repr, keys))}")
    if fmt is not Format.table:
        unique = {e["id"]: e for _, e in matches}
        output.emit(list(unique.values()), fmt)
    elif matches:
        _lookup_table(db, keys, matches)


def _lookup_fuzzy(db: Database, keys: list[str], limit: int, include_deleted: bool, fmt: Format) -> None:
    hits = [(k, entity, score) for k in keys
            for entity, score in db.lookup(k, include_deleted=include_deleted, fuzzy=True, limit=limit)]
    if not hits:
        output.message(f"no entity matches {', '.join(map(repr, keys))}, even fuzzily")
    if fmt is not Format.table:
        several = len(keys) > 1
        output.emit([{**({"_lookup": k} if several else {}), "_score": score, **entity}
                     for k, entity, score in hits], fmt)
    elif hits:
        _lookup_table(db, keys, [(k, e) for k, e, _ in hits], [score for _, _, score in hits])


def _lookup_table(db: Database, keys: list[str], matches: list[tuple[str, dict[str, Any]]],
                  scores: list[float] | None = None) -> None:
    key_fields = {t: db.get_schema(t)["key_field"] for t in {e["entity_type"] for _, e in matches}}
    columns: dict[str, None] = {}
    for _, entity in matches:
        for name in (key_fields[entity["entity_type"]], "uri", "key", "name"):
            if name and name in entity:
                columns[name] = None
    columns.pop("id", None)
    rows = [{"lookup": k, "table": e["entity_type"], "id": e["id"], **{c: e.get(c) for c in columns}}
            for k, e in matches]
    head = (["lookup"] if len(keys) > 1 else []) + ["table", "id", *columns]
    if scores is not None:
        for row, score in zip(rows, scores, strict=True):
            row["score"] = f"{score:.3f}"
        head.insert(1 if len(keys) > 1 else 0, "score")
    output.records_table(rows, head)


def register(app: typer.Typer) -> None:
    for command in (insert, upsert, get, update, delete, count, lookup):
        app.command()(command)
