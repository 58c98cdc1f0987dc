"""`rem dream` (SPEC §12, §13): recent rows become moments linked into the graph; a thin call into
Database.dream (docs/dreaming.md)."""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from . import output
from .errors import CliError
from .state import Format, FormatOption, state_of


def _write_report(path: Path, report: dict[str, Any]) -> None:
    """The report as JSON, written whole or not at all."""
    target = path.expanduser()
    if not target.parent.is_dir():
        raise CliError(f"--output {path}: directory {target.parent} does not exist")
    part = target.with_name(f".{target.name}.part")
    try:
        part.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(part, target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise CliError(f"--output {path}: cannot write it ({exc.strerror or exc})") from None


def _table(report: dict[str, Any]) -> None:
    rows = [{"start": (m.get("start_time") or "")[:16].replace("T", " "),
             "end": (m.get("end_time") or "")[:16].replace("T", " "), "type": m.get("moment_type") or "",
             "name": m["name"], "contains": m["contains"], "people": ", ".join(m.get("people") or [])}
            for m in report["moments"]]
    if rows:
        output.records_table(rows, ["start", "end", "type", "name", "contains", "people"])


def _summary(report: dict[str, Any]) -> str:
    window = report["window"]
    moments, periods = len(report["moments"]), len(report["periods"])
    verb = "would store" if report["dry_run"] else ("stored" if report["stored"] else "found nothing to store:")
    edges = report["edges"]
    how = report["llm"] or "offline"
    replaced = f", replacing {report['replaced']}" if report["replaced"] else ""
    return (f"{verb} {moments} moment{'s' if moments != 1 else ''} from {periods} period"
            f"{'s' if periods != 1 else ''}{replaced} ({edges['contains']} contains, {edges['captured_in']} "
            f"captured_in edges; {how}) for {window['start']} to {window['end']} in {report['seconds']:.2f} s")


def _progress() -> AbstractContextManager[Any]:
    if not sys.stderr.isatty():
        return nullcontext(None)
    return _Spinner()


class _Spinner:
    """A spinner on stderr naming the step under way (removed when done)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("dreaming", total=None)

    def __enter__(self) -> Any:
        self.progress.start()
        return lambda step: self.progress.update(self.task, description=f"dreaming: {step}")

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def dream(
    ctx: typer.Context,
    lookback_hours: Annotated[float, typer.Option("--lookback-hours", help="Hours before --end (default: now) "
                                                                           "that the window starts.")] = 24,
    start: Annotated[str | None, typer.Option("--start", metavar="ISO", help="Window start, ISO-8601 "
                                                                            "(e.g. 2025-01-31T09:00:00Z).")] = None,
    end: Annotated[str | None, typer.Option("--end", metavar="ISO", help="Window end, ISO-8601 "
                                                                        "[default: now].")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be stored; store nothing.")] = False,
    llm: Annotated[str | None, typer.Option("--llm", metavar="MODEL", help="Summarise with provider:model "
                                                                          "(openai:…, anthropic:…, cerebras:…, "
                                                                          "offline) [default: P8_DEFAULT_LLM, "
                                                                          "else offline].")] = None,
    out: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                             help="Also write the report (moments, edges, periods) as JSON.")] = None,
    fmt: FormatOption = None,
) -> None:
    """Dream: group what was created or modified in the window into periods of activity, summarise each into a
    moment (plus one summary moment) and link them into the graph (contains, captured_in). Re-dreaming a
    window replaces its moments. Prints the moments (--format json: the whole report)."""
    state = state_of(ctx)
    fmt = state.fmt(fmt)
    db = state.open(ctx, write=not dry_run)
    with _progress() as progress:
        report = db.dream(lookback_hours=lookback_hours, start=start, end=end, dry_run=dry_run, llm=llm,
                          progress=progress)
    if out is not None:
        _write_report(out, report)
    if fmt is Format.json:
        output.print_json(report)
    elif fmt is not Format.table:
        output.emit(report["moments"], fmt)
    else:
        _table(report)
    for fallback in report["fallbacks"]:
        output.message(f"note: chunk {fallback['chunk'] + 1} (periods {fallback['periods']}) was summarised "
                       f"offline: {fallback['reason']}")
    output.message(_summary(report))


def register(app: typer.Typer) -> None:
    app.command()(dream)
