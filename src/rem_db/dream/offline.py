"""The offline summariser (the default; deterministic, no network): per period a name, a summary built from
key phrases and the rows' own titles, a moment type from the tables involved, tags from the rows' categories
and tags (and their tables' schema categories), people from the key index, emotion tags from a small lexicon.
It writes the same :class:`Draft` the LLM summariser does."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .periods import Period
from .recognise import Recognised

MOMENT_TYPES = ("work_session", "learning", "planning", "communication", "reflection", "creation", "other")
#: key phrases per moment
KEY_PHRASES = 5
MAX_TAGS = 10
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]{2,}")
_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other
our ours out over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would
you your yours yes okay ok let lets get got make made one two three use used using like well much many thing
things need needs want wants see said say says new now via per etc also just really may might must shall user
assistant system tool content name uri http https www com org html
""".split())  # noqa: SIM905
#: words that mark an emotion, by tag
_EMOTIONS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "glad", "great", "excited", "delighted", "love", "enjoyed", "awesome", "thanks", "thank"),
    "frustrated": ("frustrated", "annoying", "annoyed", "stuck", "broken", "fails", "failing", "bug", "angry"),
    "worried": ("worried", "anxious", "concerned", "risk", "afraid", "nervous", "urgent", "deadline"),
    "curious": ("curious", "wonder", "wondering", "interesting", "explore", "learn", "learning", "question"),
    "satisfied": ("done", "finished", "shipped", "solved", "fixed", "works", "resolved", "completed"),
}
_EMOTION_OF = {word: tag for tag, words in _EMOTIONS.items() for word in words}


@dataclass
class Draft:
    """What a summariser says about one period (the writer adds times, ids, ids of rows and edges)."""

    name: str
    summary: str
    moment_type: str = "other"
    tags: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    emotion_tags: list[str] = field(default_factory=list)


def key_phrases(texts: list[str], limit: int = KEY_PHRASES) -> list[str]:
    """The most frequent content words and word pairs (a pair wins over its words when it is as frequent)."""
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for text in texts:
        tokens = [w.lower().strip("'’-") for w in _WORD.findall(text)]
        content = [t for t in tokens if t not in _STOP and not t.isdigit()]
        words.update(content)
        pairs.update(f"{a} {b}" for a, b in itertools.pairwise(tokens)
                     if a not in _STOP and b not in _STOP and a != b)
    ranked = [(n, p) for p, n in pairs.items() if n >= 2] + list((n, w) for w, n in words.items())
    ranked.sort(key=lambda x: (-x[0], -len(x[1].split()), x[1]))
    out: list[str] = []
    for _, phrase in ranked:
        if any(phrase in kept.split() or phrase == kept for kept in out):
            continue  # a word already inside a chosen pair
        out.append(phrase)
        if len(out) >= limit:
            break
    return out


def moment_type(tables: dict[str, int]) -> str:
    total = sum(tables.values()) or 1
    talk = tables.get("messages", 0) + tables.get("sessions", 0)
    if talk * 2 >= total:
        return "communication"
    if tables.get("resources", 0) + tables.get("documents", 0) >= total / 2:
        return "learning"
    return "work_session"


def tags_of(period: Period, categories: dict[str, str]) -> list[str]:
    """Rows' ``category`` values and ``tags``, most frequent first, then the non-system schema categories of
    their tables (``user``, ``public``, ``agents``)."""
    counts: Counter[str] = Counter()
    for item in period.items:
        row = item.row
        if isinstance(row.get("category"), str) and row["category"]:
            counts[row["category"]] += 1
        tags = row.get("tags")
        for tag in tags if isinstance(tags, list) else ():
            if isinstance(tag, str) and tag:
                counts[tag] += 1
    tags = [t for t, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
    for table in sorted(period.tables()):
        category = categories.get(table)
        if category and category != "system" and category not in tags:
            tags.append(category)
    return tags[:MAX_TAGS]


def emotions(texts: list[str]) -> list[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        for word in _WORD.findall(text.lower()):
            tag = _EMOTION_OF.get(word)
            if tag is not None:
                counts[tag] += 1
    return [t for t, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))][:3]


def _titles(period: Period, limit: int = 3) -> list[str]:
    """Short titles of the first rows: their name, else the first line of their text."""
    out: list[str] = []
    for item in period.items:
        name = item.row.get("name")
        title = name if isinstance(name, str) and name else item.text.strip().split("\n", 1)[0]
        title = " ".join(title.split())[:80]
        if title and title not in out:
            out.append(title)
        if len(out) >= limit:
            break
    return out


def _counted(tables: dict[str, int]) -> str:
    total = sum(tables.values())
    return f"{total} row{'s' if total != 1 else ''} (" + ", ".join(f"{t} {n}" for t, n in sorted(tables.items())) + ")"


def summarise(period: Period, recognised: Recognised, categories: dict[str, str]) -> Draft:
    """The offline draft of a period."""
    texts = [item.text for item in period.items]
    phrases = key_phrases(texts)
    kind = moment_type(period.tables())
    start, end = period.start, period.end
    when = f"{start:%Y-%m-%d %H:%M}" + (f"–{end:%H:%M}" if end.date() == start.date() else f" – {end:%Y-%m-%d %H:%M}")
    topic = ", ".join(phrases[:3]) or "activity"
    parts = [f"{_counted(period.tables())} between {when} UTC."]
    titles = _titles(period)
    if titles:
        parts.append("Including: " + "; ".join(titles) + ".")
    if phrases:
        parts.append("Key phrases: " + ", ".join(phrases) + ".")
    named = [e.get("name") or e.get("key") or e["id"] for e in recognised.entities[:8]]
    if recognised.people:
        parts.append("People: " + ", ".join(recognised.people) + ".")
    others = [n for n in named if n not in recognised.people]
    if others:
        parts.append("Mentions: " + ", ".join(str(n) for n in others) + ".")
    return Draft(name=f"{kind.replace('_', ' ').capitalize()} {when}: {topic}", summary=" ".join(parts),
                 moment_type=kind, tags=tags_of(period, categories), people=list(recognised.people),
                 emotion_tags=emotions(texts))


def window_summary(drafts: list[Draft], periods: list[Period]) -> str:
    """The period summary of a whole window from its moments (offline): counts, types and top phrases."""
    if not periods:
        return ""
    counts: dict[str, int] = {}
    for period in periods:
        for table, n in period.tables().items():
            counts[table] = counts.get(table, 0) + n
    kinds = Counter(d.moment_type for d in drafts)
    topics = key_phrases([d.name.split(": ", 1)[-1] for d in drafts], 5)
    kind_text = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(kinds.items(), key=lambda x: (-x[1], x[0])))
    return (f"{len(periods)} period{'s' if len(periods) != 1 else ''} of activity ({kind_text}) over "
            f"{_counted(counts)}." + (f" Main topics: {', '.join(topics)}." if topics else ""))


def as_row(draft: Draft) -> dict[str, Any]:
    return {"name": draft.name, "summary": draft.summary, "moment_type": draft.moment_type, "tags": draft.tags,
            "people": draft.people, "emotion_tags": draft.emotion_tags}
