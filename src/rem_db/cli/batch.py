"""The progress bar of `rem insert|upsert TABLE --batch` (the load itself is ``Database.insert_jsonl``).

It is drawn on stderr only when stderr is a terminal: bytes read when the input size is known, rows written
always, and the embedding of the chunk being written for tables with embedding fields.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rem_db.entities.stream import JsonlProgress

Callback = Callable[["JsonlProgress"], None]


def load_progress(table: str) -> AbstractContextManager[Callback | None]:
    """``with load_progress(table) as progress``: a callback for ``insert_jsonl``, or ``None`` in pipes."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    return _ProgressBar(table)


class _ProgressBar:
    """A rich progress bar on stderr, removed when the load ends."""

    def __init__(self, table: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[rows]} rows"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(f"loading {table}", total=None, rows=0)
        self.embed_task: Any = None

    def __enter__(self) -> Callback:
        self.progress.start()
        return self.update

    def update(self, state: JsonlProgress) -> None:
        self.progress.update(self.task, completed=state.bytes_read, total=state.bytes_total, rows=state.rows)
        if state.to_embed:
            if self.embed_task is None:
                self.embed_task = self.progress.add_task("embedding", total=state.to_embed, rows=0)
            self.progress.update(self.embed_task, completed=state.embedded, total=state.to_embed,
                                 rows=state.embedded)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
