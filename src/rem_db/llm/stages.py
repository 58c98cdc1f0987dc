"""Multi-stage execution of a QueryPlan (SPEC §11): the primary query, then fallback queries whose trigger
matches what the stage before produced, up to ``max_stages``.

A stage's outcome is one of:

- ``error``: running it raised a :class:`~rem_db.DatabaseError` (a query that does not parse or check, a
  missing start entity, ...);
- ``no_results``: it returned no rows;
- ``low_quality``: it is a SEARCH and its rows look like a miss: none of them holds any of the search text's
  meaningful words (3+ letters, not a stop word; compared case-insensitively with the rows' text values)
  and, for a plain vector search, the best ``_score`` (cosine) is below :data:`LOW_SCORE`; a HYBRID
  search's fused score is rank-based, so only the word test applies there;
- ``ok`` otherwise: execution stops.

After a stage that is not ``ok``, the next fallback (in plan order, after the last one run) whose trigger is
that outcome runs; when none matches, or ``max_stages`` stages ran, execution stops. ``results`` are the
rows of the last stage that returned rows (an earlier low-quality answer beats a later error), else empty.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import DatabaseError
from .offline.text import STOP
from .plan import PlanQuery, QueryPlan, Trigger

LOW_SCORE = 0.3
_WORD = re.compile(r"[^\W\d_]{3,}")
_SEARCH = re.compile(r"^\s*(?:EXPLAIN\s+)?SEARCH\b", re.IGNORECASE)
_HYBRID = re.compile(r"\bHYBRID\b", re.IGNORECASE)

Runner = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


@dataclass
class Stage:
    query: PlanQuery
    trigger: str | None  # None for the primary query
    rows: list[dict[str, Any]]
    time_ms: float
    error: str | None
    outcome: str

    def report(self, number: int) -> dict[str, Any]:
        return {"stage": number, "trigger": self.trigger, "dialect": self.query.dialect.value,
                "query": self.query.query_string, "parameters": self.query.parameters, "rows": len(self.rows),
                "time_ms": round(self.time_ms, 3), "outcome": self.outcome, "error": self.error}


def _words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOP}


def low_quality(query: PlanQuery, rows: list[dict[str, Any]]) -> bool:
    """See the module docstring."""
    if not rows or not _SEARCH.match(query.query_string):
        return False
    wanted = set()
    for value in query.parameters.values():
        if isinstance(value, str):
            wanted |= _words(value)
    if not wanted:
        return False
    for row in rows:
        text = " ".join(v for k, v in row.items() if isinstance(v, str) and not k.startswith("_")).lower()
        if any(w in text for w in wanted):
            return False
    if _HYBRID.search(query.query_string):
        return True
    best = max((r.get("_score") or 0.0) for r in rows)
    return bool(best < LOW_SCORE)


def run_stage(query: PlanQuery, trigger: str | None, run: Runner) -> Stage:
    started = time.perf_counter()
    try:
        rows = run(query.query_string, dict(query.parameters))
        error = None
    except DatabaseError as exc:
        rows, error = [], str(exc)
    elapsed = (time.perf_counter() - started) * 1000
    if error is not None:
        outcome = Trigger.error.value
    elif not rows:
        outcome = Trigger.no_results.value
    elif low_quality(query, rows):
        outcome = Trigger.low_quality.value
    else:
        outcome = "ok"
    return Stage(query, trigger, rows, elapsed, error, outcome)


def execute(plan: QueryPlan, run: Runner, max_stages: int) -> list[Stage]:
    """Run the plan's stages (see the module docstring)."""
    stages = [run_stage(plan.primary_query, None, run)]
    position = 0
    while stages[-1].outcome != "ok" and len(stages) < max_stages:
        following = plan.fallback_queries[position:]
        match = next((n for n, f in enumerate(following) if f.trigger.value == stages[-1].outcome), None)
        if match is None:
            break
        fallback = following[match]
        position += match + 1
        query = PlanQuery(dialect=fallback.dialect, query_string=fallback.query_string,
                          parameters=fallback.parameters)
        stages.append(run_stage(query, fallback.trigger.value, run))
    return stages


def answering(stages: list[Stage]) -> Stage:
    """The stage whose rows are the results: the last one with rows, else the last one run."""
    return next((s for s in reversed(stages) if s.rows), stages[-1])
