"""The dream service (SPEC §12, ``Database.dream``, ``rem dream``): window → rows → periods → drafts (offline
or by a chat model) → moments with their edges, written in one batch; returns the report::

    {window, periods, moments, summary, edges, stored, replaced, llm, fallbacks, seconds}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config import Settings
from ..entities.engine import EntityEngine
from ..schema.registry import SchemaRegistry
from ..storage.codec import format_timestamp
from . import llm as llm_summary
from . import offline
from .periods import Period, group
from .recognise import Recognised, recognise
from .window import Window, resolve_window, select_items
from .writer import CAPTURED_IN, CONTAINS, MOMENTS, PlannedMoment, moment_id, previous_moments, write

Progress = Callable[[str], None]


@dataclass
class DreamSources:
    """What dreaming reads and writes: schemas, the entity engine (field and key indexes, the write batch), the
    settings (``P8_DEFAULT_LLM`` and the chat clients') and the tenant (moment ids)."""

    schemas: SchemaRegistry
    entities: EntityEngine
    settings: Settings
    tenant: str


class DreamService:
    """Dreams over one open database."""

    def __init__(self, sources: DreamSources) -> None:
        self.sources = sources

    def dream(self, lookback_hours: Any = 24, start: Any = None, end: Any = None, dry_run: bool = False,
              llm: str | None = None, progress: Progress | None = None, now: datetime | None = None) -> dict[str, Any]:
        """Summarise the window into moments and store them (not with ``dry_run``); the report."""
        began = time.perf_counter()
        step = progress or (lambda _: None)
        src = self.sources
        window = resolve_window(lookback_hours, start, end, now)
        client = self._client(llm)
        step("reading the window")
        items = select_items(src.entities, src.schemas, window)
        periods = group(items)
        step(f"recognising entities in {len(periods)} period{'s' if len(periods) != 1 else ''}")
        found = {p.index: recognise(src.entities, p.items) for p in periods}
        categories = {s.short_name: s.category for s in src.schemas.all()}

        def offline_draft(period: Period) -> offline.Draft:
            return offline.summarise(period, found[period.index], categories)

        drafts: dict[int, offline.Draft] = {}
        summaries: list[str] = []
        fallbacks: list[dict[str, Any]] = []
        if client is None:
            drafts = {p.index: offline_draft(p) for p in periods}
        else:
            chunks = llm_summary.chunks(periods)
            for chunk in chunks:
                step(f"asking {client.provider}:{client.model} (chunk {chunk.index + 1} of {len(chunks)})")
                result = llm_summary.summarise_chunk(client, chunk, offline_draft)
                drafts.update(result.drafts)
                if result.summary:
                    summaries.append(result.summary)
                if result.fallback is not None:
                    fallbacks.append({**llm_summary.describe(chunk), "reason": result.fallback})
        ordered = [drafts[p.index] for p in periods]
        summary = " ".join(summaries) if summaries and not fallbacks else offline.window_summary(ordered, periods)
        planned = self._plan(window, periods, ordered, found, summary, client)
        schema = src.schemas.get(MOMENTS)
        stats: dict[str, int] = {}
        if not dry_run and (planned or previous_moments(src.entities, schema, window)):
            step(f"writing {len(planned)} moments")
            stats = write(src.entities, schema, window, planned)
        replaced = stats.get("removed", 0) if not dry_run else len(
            [r for r in previous_moments(src.entities, schema, window) if r["id"] not in {m.id for m in planned}])
        contains = sum(len(m.members) for m in planned)
        captured = sum(len(m.members) for m in planned if m.captured)
        return {
            "window": window.as_dict(),
            "periods": [p.as_dict() for p in periods],
            "moments": [{**m.row, "contains": len(m.members)} for m in planned],
            "summary": summary,
            "edges": {CONTAINS: contains, CAPTURED_IN: captured},
            "stored": bool(stats),
            "dry_run": dry_run,
            "replaced": replaced,
            "llm": None if client is None else f"{client.provider}:{client.model}",
            "fallbacks": fallbacks,
            "seconds": round(time.perf_counter() - began, 3),
        }

    def _client(self, llm: str | None) -> Any:
        """The chat client of ``llm`` (else ``P8_DEFAULT_LLM``); ``None`` for the offline summariser."""
        spec = llm if llm is not None else self.sources.settings.default_llm
        if spec is None or not spec.strip() or spec.strip().lower() == "offline":
            return None
        from ..llm.clients.base import chat_client

        return chat_client(spec, self.sources.settings)

    def _plan(self, window: Window, periods: list[Period], drafts: list[offline.Draft],
              found: dict[int, Recognised], summary: str, client: Any) -> list[PlannedMoment]:
        tenant = self.sources.tenant
        summariser = "offline" if client is None else f"{client.provider}:{client.model}"
        planned: list[PlannedMoment] = []
        for period, draft in zip(periods, drafts, strict=True):
            sessions = [i.row.get("session_id") for i in period.items if i.table in ("messages", "sessions")]
            row = {"id": moment_id(tenant, window, f"period:{period.index}"), **offline.as_row(draft),
                   "start_time": format_timestamp(period.start), "end_time": format_timestamp(period.end),
                   "resource_ids": [i.id for i in period.items if i.table == "resources"],
                   "session_ids": list(dict.fromkeys(s for s in sessions if isinstance(s, str) and s)),
                   "metadata": {"dream": {"window": window.as_dict(), "period": period.index, "kind": "period",
                                          "rows": len(period.items), "summariser": summariser}}}
            members = [i.id for i in period.items] + [e["id"] for e in found[period.index].entities]
            planned.append(PlannedMoment(row, members))
        if planned:
            first, last = periods[0].start, periods[-1].end
            when = f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M}"
            people = list(dict.fromkeys(p for m in planned for p in m.row["people"]))
            tags = list(dict.fromkeys(t for m in planned for t in m.row["tags"]))[:offline.MAX_TAGS]
            row = {"id": moment_id(tenant, window, "summary"), "name": f"Dream summary {when} UTC",
                   "summary": summary, "moment_type": "reflection", "tags": tags, "people": people,
                   "emotion_tags": [], "start_time": format_timestamp(first), "end_time": format_timestamp(last),
                   "resource_ids": [],
                   "session_ids": list(dict.fromkeys(s for m in planned for s in m.row["session_ids"])),
                   "metadata": {"dream": {"window": window.as_dict(), "kind": "summary", "periods": len(periods),
                                          "summariser": summariser}}}
            planned.append(PlannedMoment(row, [m.id for m in planned], captured=False))
        return planned
