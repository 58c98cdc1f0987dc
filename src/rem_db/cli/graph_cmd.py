"""`rem traverse` and `rem edge add|remove|list`: thin calls into the graph API of :class:`Database`.

Entities are named by id or by key (uri, key field, ``key`` or ``name``) everywhere. ``rem traverse`` prints
a table by default, the API's results with ``--format json|jsonl``, flat rows with ``csv``, and a Graphviz
digraph with ``--format dot`` (the start, the reached entities and the edges between them that the walk may
follow, drawn from source to destination; render with ``rem traverse X -f dot | dot -Tsvg > g.svg``).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from . import output
from .errors import CliError, json_argument
from .state import Format, FormatOption, state_of

edge_app = typer.Typer(help="Add, remove and list the edges of entities.", no_args_is_help=True)

RefArg = Annotated[str, typer.Argument(metavar="ID_OR_KEY", help="Entity id, or a key (uri, key field, key, "
                                                                 "name) that names one entity.")]
DirectionOpt = Annotated[str, typer.Option("--direction", "-D", help="out, in or both.")]
TypeOpt = Annotated[list[str] | None, typer.Option(
    "--type", "-t", show_default=False, help="Relation type to follow (repeat for several; default: all).")]


class GraphFormat(enum.StrEnum):
    """Output formats of `rem traverse`: those of every command, plus Graphviz DOT."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    dot = "dot"


def _rels(types: list[str] | None) -> list[str] | None:
    return list(types) if types else None


def traverse(ctx: typer.Context, start: RefArg,
             depth: Annotated[int, typer.Option("--depth", "-d", help="Hops to walk, 1 to 10.")] = 1,
             direction: DirectionOpt = "out", types: TypeOpt = None,
             strategy: Annotated[str, typer.Option("--strategy", help="bfs (by depth) or dfs (pre-order).")] = "bfs",
             limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many entities.")] = None,
             include_deleted: Annotated[bool, typer.Option("--include-deleted",
                                                           help="Walk through soft-deleted entities too.")] = False,
             fields: Annotated[list[str] | None, typer.Option(
                 "--fields", help="Only these entity fields (repeat; id and entity_type always).")] = None,
             fmt: Annotated[GraphFormat | None, typer.Option(
                 "--format", "-f", case_sensitive=False, show_default=False,
                 help="table, json, jsonl, csv or dot (Graphviz); overrides the global --format.")] = None,
             ) -> None:
    """Walk the graph from ID_OR_KEY and print the entities reached, with their depth and path."""
    state = state_of(ctx)
    chosen = GraphFormat(fmt or state.format.value)
    db = state.open(ctx, write=False)
    walk: dict[str, Any] = {"depth": depth, "direction": direction, "rel_type": _rels(types), "strategy": strategy,
                            "limit": limit, "include_deleted": include_deleted}
    if chosen is GraphFormat.dot:
        print(db.traverse_dot(start, **walk), end="")
        return
    results = db.traverse(start, **walk, fields=list(fields) if fields else None)
    if not results:
        output.message(f"nothing reachable from {start!r} within {depth} hop{'s' if depth != 1 else ''}")
    if chosen in (GraphFormat.json, GraphFormat.jsonl):
        output.emit(results, Format(chosen.value))
        return
    names = db.entity_labels(r["entity"] for r in results)
    rows = [{"depth": r["depth"], "id": r["entity"]["id"], "table": r["entity"]["entity_type"],
             "entity": names[r["entity"]["id"]],
             "path": " ".join(f"-[{h['rel_type']}]-> {names.get(h['id'], h['id'])}" for h in r["path"])}
            for r in results]
    if chosen is GraphFormat.csv:
        output.print_csv(rows)
    elif rows:
        output.records_table(rows, ["depth", "table", "entity", "id", "path"])


@edge_app.command("add")
def edge_add(ctx: typer.Context, src: Annotated[str, typer.Argument(metavar="SRC", help="Source id or key.")],
             dst: Annotated[str, typer.Argument(metavar="DST", help="Destination id or key.")],
             rel: Annotated[str, typer.Argument(metavar="REL", help="Relation type (any text).")],
             properties: Annotated[str | None, typer.Option(
                 "--properties", "-p", help="Edge properties as a JSON object (or - to read it from stdin).")]
             = None,
             fmt: FormatOption = None) -> None:
    """Add the edge SRC -[REL]-> DST (or replace its properties) and print it."""
    state = state_of(ctx)
    props = json_argument(properties) if properties is not None else None
    if props is not None and not isinstance(props, dict):
        raise CliError("--properties must be a JSON object")
    edge = state.open(ctx, write=True).add_edge(src, dst, rel, props)
    output.emit(edge, state.fmt(fmt))


@edge_app.command("remove")
def edge_remove(ctx: typer.Context, src: Annotated[str, typer.Argument(metavar="SRC", help="Source id or key.")],
                dst: Annotated[str, typer.Argument(metavar="DST", help="Destination id or key.")],
                rel: Annotated[str, typer.Argument(metavar="REL", help="Relation type.")]) -> None:
    """Remove the edge SRC -[REL]-> DST."""
    state_of(ctx).open(ctx, write=True).remove_edge(src, dst, rel)
    output.message(f"removed edge {src} -[{rel}]-> {dst}")


@edge_app.command("list")
def edge_list(ctx: typer.Context, ref: RefArg, direction: DirectionOpt = "out", types: TypeOpt = None,
              fmt: FormatOption = None) -> None:
    """List the edges of an entity (outgoing by default)."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    edges = state.open(ctx, write=False).edges(ref, direction=direction, rel_type=_rels(types))
    if not edges:
        which = {"out": "outgoing ", "in": "incoming "}.get(direction, "")
        output.message(f"{ref!r} has no {which}edges" + (f" of type {', '.join(types)}" if types else ""))
    if fmt is not Format.table:
        output.emit(edges, fmt)
    elif edges:
        output.records_table(edges, ["direction", "rel_type", "src", "dst", "properties", "created_at"])


def register(app: typer.Typer) -> None:
    app.command()(traverse)
    app.add_typer(edge_app, name="edge")
