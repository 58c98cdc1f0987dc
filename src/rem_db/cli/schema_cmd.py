"""`rem schema add|list|show|templates|remove`: thin calls into the schema API of :class:`Database`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import output
from .errors import CliError
from .state import FormatOption, state_of

app = typer.Typer(help="Register, inspect and remove table schemas.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Table name.")]
LIST_COLUMNS = ("short_name", "version", "category", "key_field", "indexed_fields", "description")


def _summary(schema: dict[str, Any]) -> str:
    parts = [f"version {schema['version']}", f"category {schema['category']}"]
    if schema.get("key_field"):
        parts.append(f"key field {schema['key_field']}")
    if schema.get("indexed_fields"):
        parts.append(f"indexed {', '.join(schema['indexed_fields'])}")
    return f"{schema['short_name']} ({'; '.join(parts)})"


@app.command()
def add(ctx: typer.Context,
        source: Annotated[str | None, typer.Argument(
            metavar="SOURCE", show_default=False,
            help="A JSON or YAML schema file, or a Pydantic model as module:Class.")] = None,
        name: Annotated[str | None, typer.Option("--name", "-n", help="Table name (short_name).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Accept a major version change or a downgrade.")]
        = False,
        template: Annotated[str | None, typer.Option("--template", "-t", help="Copy a template "
                                                     "(see `rem schema templates`); needs --name.")] = None,
        out: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False, help="With --template: write "
                                                 "the schema to this .json/.yaml file instead of registering "
                                                 "it.")] = None,
        fmt: FormatOption = None) -> None:
    """Register a table from a schema file, a Pydantic model, or a template."""
    state = state_of(ctx)
    if template is not None:
        if source is not None:
            raise typer.BadParameter("give either a schema source or --template, not both", param_hint="'--template'")
        if not name:
            raise typer.BadParameter("--template needs --name (the new table's name)", param_hint="'--name'")
        if out is not None:
            _write_template(template, name, out)
            return
        schema = state.open(ctx, write=True).add_schema_from_template(name, template)
    else:
        if source is None:
            raise typer.BadParameter("give a schema file or module:Class, or --name N --template T",
                                     param_hint="'SOURCE'")
        if out is not None:
            raise typer.BadParameter("--output only applies with --template", param_hint="'--output'")
        if ":" in source and not Path(source).exists() and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # module:Class from the current directory, as `python -m` would
        schema = state.open(ctx, write=True).register_schema(source, name=name, force=force)
    output.emit(schema, state.fmt(fmt), lambda s: print(f"registered {_summary(s)}"))


def _write_template(template: str, name: str, out: Path) -> None:
    from rem_db import Database

    schema = Database.schema_template(template, name)
    if out.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(schema, sort_keys=False, allow_unicode=True)
    else:
        import orjson

        text = orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    output.message(f"wrote schema {schema['short_name']!r} (template {template!r}) to {out}; it is NOT registered "
                   f"(edit it, then `rem schema add {out}`)")


@app.command("list")
def list_(ctx: typer.Context,
          category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category: system, "
                                                       "agents, public or user.")] = None,
          fmt: FormatOption = None) -> None:
    """List registered tables."""
    state = state_of(ctx)
    schemas = state.open(ctx, write=False).list_schemas(category=category)
    output.emit(schemas, state.fmt(fmt), lambda rows: output.records_table(rows, LIST_COLUMNS))


@app.command()
def show(ctx: typer.Context, name: NameArg, fmt: FormatOption = None) -> None:
    """Show a table's settings, fields and version history."""
    state = state_of(ctx)
    db = state.open(ctx, write=False)
    schema = db.get_schema(name)
    output.emit(schema, state.fmt(fmt), lambda s: _show_table(s, db.schema_fields(name)))


def _show_table(schema: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    settings = {k: v for k, v in schema.items() if k not in ("json_schema", "history")}
    output.detail_table(settings, title=f"table {schema['short_name']}")
    rows = [{**f, "required": "yes" if f["required"] else "", "flags": ", ".join(f["flags"])} for f in fields]
    output.records_table(rows, ("field", "type", "required", "default", "flags"), title="fields")
    history = [{"version": h.get("version"), "registered_at": h.get("registered_at")}
               for h in schema.get("history") or []]
    if history:
        output.records_table(history, ("version", "registered_at"), title="history")


@app.command()
def templates(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """List the schema templates for `rem schema add --name N --template T`."""
    from rem_db import Database

    rows = [{"name": n, "description": d} for n, d in Database.schema_templates().items()]
    output.emit(rows, state_of(ctx).fmt(fmt))


@app.command()
def remove(ctx: typer.Context, name: NameArg,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm removing a table that has rows.")]
           = False) -> None:
    """Drop a user table and all its rows (system tables cannot be removed)."""
    db = state_of(ctx).open(ctx, write=True)
    if db.get_schema(name)["category"] != "system" and not yes:
        rows = db.count(name, include_deleted=True)
        if rows:
            raise CliError(f"table {name!r} has {rows} row{'s' if rows != 1 else ''}; pass --yes to remove it "
                           f"with all its rows")
    removed = db.remove_schema(name)
    output.message(f"removed table {name!r} and {removed} row{'s' if removed != 1 else ''}")

