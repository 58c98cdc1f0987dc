"""The LLM summariser: the periods are sent in chunks that fit the model's context (:data:`CHUNK_CHARS` of row
text each; a period larger than that is cut to its first rows), and the model answers one moment per period
and a summary of the chunk in the provider's structured-output form, validated with Pydantic.

A chunk whose answer is not JSON, does not fit :class:`DreamAnswer`, skips or invents a period, or whose
request failed after the retries (timeout, rate limit, server error, refusal) is summarised offline instead;
the report lists it under ``fallbacks`` with the reason. A setting to fix (no key, a wrong key, an unreachable
server) raises :class:`~rem_db.errors.LLMError`, as ``rem ask`` does: it is not hidden behind a fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic

from ..errors import LLMError
from ..llm.clients.base import ChatClient
from ..llm.llm_planner import parse_json
from ..storage.codec import format_timestamp
from .offline import MOMENT_TYPES, Draft
from .periods import Period

#: row text per chunk (about 6k tokens: fits every supported model's context with room for the answer)
CHUNK_CHARS = 24_000
#: row text per row in a prompt
ROW_CHARS = 600
#: answer budget per chunk
MAX_ANSWER_TOKENS = 4_000

SYSTEM_PROMPT = """You turn an agent's recent activity into memory: for each period of activity given, write one \
moment, a time-bounded summary of what happened.

For every period write: `period` (its label, e.g. "p3", exactly as given), `name` (a short title, at most 80 \
characters), `summary` (2-4 sentences: what was done, read or discussed, decisions, open questions), \
`moment_type` (one of work_session, learning, planning, communication, reflection, creation, other), `tags` (up \
to 8 lowercase topic words), `people` (names of people involved or mentioned, as written), `emotion_tags` (up to \
3 words for the mood, e.g. focused, frustrated, happy; empty when unclear). Also write `period_summary`: 1-3 \
sentences over all the periods given. Answer with JSON only, matching the schema; one moment per period, no \
other periods."""


class MomentAnswer(pydantic.BaseModel):
    """One moment as the model writes it."""

    model_config = pydantic.ConfigDict(extra="ignore")

    period: str
    name: str = pydantic.Field(min_length=1, max_length=200)
    summary: str = pydantic.Field(min_length=1, max_length=4_000)
    moment_type: Literal["work_session", "learning", "planning", "communication", "reflection", "creation",
                         "other"] = "other"
    tags: list[str] = pydantic.Field(default_factory=list, max_length=20)
    people: list[str] = pydantic.Field(default_factory=list, max_length=50)
    emotion_tags: list[str] = pydantic.Field(default_factory=list, max_length=10)


class DreamAnswer(pydantic.BaseModel):
    """The whole answer for one chunk."""

    model_config = pydantic.ConfigDict(extra="ignore", title="dream_moments")

    moments: list[MomentAnswer]
    period_summary: str = ""


@dataclass
class Chunk:
    """Periods sent in one request."""

    index: int
    periods: list[Period] = field(default_factory=list)
    chars: int = 0


def chunks(periods: list[Period], budget: int | None = None) -> list[Chunk]:
    """Consecutive periods packed into chunks of at most ``budget`` characters of row text (a period always
    goes whole into one chunk: its rows are cut to fit, see :func:`period_text`)."""
    budget = CHUNK_CHARS if budget is None else budget
    out: list[Chunk] = []
    for period in periods:
        size = min(sum(min(len(i.text), ROW_CHARS) + 40 for i in period.items), budget)
        if not out or out[-1].chars + size > budget:
            out.append(Chunk(len(out)))
        out[-1].periods.append(period)
        out[-1].chars += size
    return out


def period_text(period: Period, budget: int | None = None) -> str:
    budget = CHUNK_CHARS if budget is None else budget
    lines = [f"## period p{period.index}: {format_timestamp(period.start)} to {format_timestamp(period.end)}, "
             f"{len(period.items)} rows"]
    used = 0
    for item in period.items:
        text = " ".join(item.text.split())[:ROW_CHARS]
        line = f"- [{item.table} {format_timestamp(item.time)[11:16]}] {text}"
        if used + len(line) > budget:
            lines.append(f"- … {len(period.items) - (len(lines) - 1)} more rows not shown")
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines)


def answer_schema() -> dict[str, Any]:
    """The JSON Schema models are asked to answer in (strict-mode compatible: every property required, no
    free-form objects); :class:`DreamAnswer` validates what comes back."""
    words = {"type": "array", "items": {"type": "string"}}
    moment = {"type": "object", "additionalProperties": False,
              "properties": {"period": {"type": "string"}, "name": {"type": "string"}, "summary": {"type": "string"},
                             "moment_type": {"type": "string", "enum": list(MOMENT_TYPES)}, "tags": words,
                             "people": words, "emotion_tags": words}}
    moment["required"] = list(moment["properties"])  # type: ignore[call-overload]
    return {"title": "dream_moments", "type": "object", "additionalProperties": False,
            "properties": {"moments": {"type": "array", "items": moment}, "period_summary": {"type": "string"}},
            "required": ["moments", "period_summary"]}


def check_answer(raw: str, chunk: Chunk) -> tuple[dict[int, Draft], str] | str:
    """``({period index: draft}, period summary)`` for a usable answer, else what is wrong."""
    try:
        data = parse_json(raw)
    except ValueError as exc:
        return f"the answer is not valid JSON ({exc})"
    try:
        answer = DreamAnswer.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        return f"the answer does not fit the schema ({where}: {first['msg']}; {exc.error_count()} problem(s))"
    wanted = {f"p{p.index}": p.index for p in chunk.periods}
    drafts: dict[int, Draft] = {}
    for moment in answer.moments:
        index = wanted.get(moment.period.strip())
        if index is None:
            return f"the answer has a moment for period {moment.period!r}, which was not given"
        drafts[index] = Draft(name=moment.name.strip()[:200], summary=moment.summary.strip(),
                              moment_type=moment.moment_type, tags=_clean(moment.tags), people=_clean(moment.people),
                              emotion_tags=_clean(moment.emotion_tags))
    missing = [label for label, index in wanted.items() if index not in drafts]
    if missing:
        return f"the answer has no moment for period {missing[0]}"
    return drafts, answer.period_summary.strip()


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


@dataclass
class ChunkResult:
    """A chunk's drafts, its summary and, when it fell back to the offline summariser, why."""

    drafts: dict[int, Draft]
    summary: str
    fallback: str | None = None


def summarise_chunk(client: ChatClient, chunk: Chunk, offline: Callable[[Period], Draft]) -> ChunkResult:
    """Ask the model for the chunk's moments; offline drafts (and the reason) when the answer is unusable."""
    body = "\n\n".join(period_text(p) for p in chunk.periods)
    labels = ", ".join(f"p{p.index}" for p in chunk.periods)
    messages = [{"role": "user", "content": f"Periods ({labels}):\n\n{body}"}]
    try:
        raw = client.complete(SYSTEM_PROMPT, messages, json_schema=answer_schema(), max_tokens=MAX_ANSWER_TOKENS)
    except LLMError as exc:
        if not exc.transient:
            raise
        reason = f"the request failed ({exc})"
    else:
        checked = check_answer(raw, chunk)
        if not isinstance(checked, str):
            return ChunkResult(*checked)
        reason = checked
    return ChunkResult({p.index: offline(p) for p in chunk.periods}, "", reason)


def describe(chunk: Chunk) -> dict[str, Any]:
    return {"chunk": chunk.index, "periods": [p.index for p in chunk.periods]}

