"""Global options of `rem` (resolved once in the app callback) and how commands open the database."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rem_db import Database


class Format(enum.StrEnum):
    """Output formats of the commands that print data."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


#: ``--format`` accepted after a command too; it wins over the global one.
FormatOption = Annotated[
    Format | None,
    typer.Option("--format", "-f", case_sensitive=False, show_default=False,
                 help="Output format (overrides the global --format)."),
]


@dataclass
class State:
    db_path: Path
    tenant: str | None
    read_only: bool
    format: Format
    password: str | None = None

    def fmt(self, local: Format | None) -> Format:
        return local or self.format

    def open(self, ctx: typer.Context, write: bool) -> Database:
        """Open the database for this command; it is closed when the command ends.

        Read commands always open it read-only: they never create a database (a missing one fails with
        "no database at ... (run `rem init` first)"), never write to its directory, and work while
        another process holds it read-write. Write commands open it read-write unless --read-only.
        """
        from rem_db import Database

        db = Database(self.db_path, tenant_id=self.tenant, read_only=self.read_only or not write,
                      password=self.password)
        ctx.call_on_close(db.close)
        return db


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_object(State)
    assert obj is not None, "the app callback sets the State"
    return obj
