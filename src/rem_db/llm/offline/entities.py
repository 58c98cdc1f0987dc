"""Names and identifiers of stored entities in a question, found through the key index (exact, then fuzzy).

Spans of one to five words are looked up as written, in Title Case and in upper case (``pp-1002-lg``); spans
not found exactly go to the fuzzy probe, and a candidate counts only when the span matches one of its key
values as a whole (similarity ≥ 0.88) or as its leading or trailing words when no other entity shares them
(``Monstera`` -> ``Monstera Deliciosa``, ``Alice`` -> ``Alice Moreau``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from ..context import PlanContext
from .text import Token

MAX_SPAN = 5
MAX_FUZZY_CALLS = 12
FUZZY_MIN = 88.0
KEY_FIELDS = ("uri", "key", "name")


@dataclass(frozen=True)
class EntityMention:
    key: str  # the key value to look the entity up by
    entity: dict[str, Any]
    first: int  # token indexes, inclusive
    last: int
    score: float

    @property
    def table(self) -> str:
        return str(self.entity.get("entity_type", ""))

    @property
    def tokens(self) -> set[int]:
        return set(range(self.first, self.last + 1))


def _span_text(question: str, toks: list[Token], i: int, j: int) -> str:
    return question[toks[i].start:toks[j].end]


def _spans(toks: list[Token], blocked: set[int]) -> list[tuple[int, int]]:
    """Candidate spans, longest first: no blocked token, not starting or ending with a stop word, not a bare
    number."""
    out = []
    for size in range(min(MAX_SPAN, len(toks)), 0, -1):
        for i in range(len(toks) - size + 1):
            j = i + size - 1
            if any(k in blocked for k in range(i, j + 1)):
                continue
            if toks[i].is_stop or toks[j].is_stop:
                continue
            if size == 1 and (toks[i].is_number or len(toks[i].text) < 2):
                continue
            out.append((i, j))
    return out


def key_values(entity: dict[str, Any], key_field: str | None) -> list[str]:
    values = [entity.get(key_field)] if key_field else []
    values += [entity.get(name) for name in KEY_FIELDS]
    return [v for v in dict.fromkeys(values) if isinstance(v, str) and v]


def recognise(question: str, toks: list[Token], context: PlanContext, blocked: set[int],
              soft: set[int]) -> list[EntityMention]:
    """Entity mentions, non-overlapping, longest spans first. ``blocked`` tokens are never part of a mention;
    ``soft`` ones (enum values, table and field words) only of exact or whole-value matches."""
    key_fields = {s.name: s.key_field for s in context.schemas}
    spans = _spans(toks, blocked)
    variants: dict[str, list[tuple[int, int]]] = {}
    for i, j in spans:
        text = _span_text(question, toks, i, j)
        for variant in dict.fromkeys((text, text.title(), text.upper())):
            variants.setdefault(variant, []).append((i, j))
    found = context.lookup(list(variants)) if variants else {}
    taken: set[int] = set()
    mentions: list[EntityMention] = []
    for i, j in spans:  # longest first: a longer name wins over its parts
        if any(k in taken for k in range(i, j + 1)):
            continue
        text = _span_text(question, toks, i, j)
        for variant in dict.fromkeys((text, text.title(), text.upper())):
            entities = found.get(variant) or []
            if entities:
                mentions.extend(EntityMention(variant, e, i, j, 1.0) for e in entities[:3])
                taken.update(range(i, j + 1))
                break
    calls = 0
    for i, j in spans:
        if calls >= MAX_FUZZY_CALLS:
            break
        if any(k in taken for k in range(i, j + 1)):
            continue
        text = _span_text(question, toks, i, j)
        if len(text) < 4 or all(toks[k].is_number for k in range(i, j + 1)):
            continue
        calls += 1
        mention = _fuzzy(context, text, i, j, key_fields, partial=not any(k in soft for k in range(i, j + 1)))
        if mention is not None:
            mentions.append(mention)
            taken.update(range(i, j + 1))
    return mentions


def _fuzzy(context: PlanContext, text: str, i: int, j: int, key_fields: dict[str, str | None],
           partial: bool) -> EntityMention | None:
    wanted = text.lower()
    whole: list[tuple[float, str, dict[str, Any]]] = []
    edge: list[tuple[str, dict[str, Any]]] = []
    for entity, _ in context.fuzzy(text, 10):
        keys = key_values(entity, key_fields.get(str(entity.get("entity_type"))))
        for key in keys:
            low = key.lower()
            score = max(fuzz.ratio(wanted, low), fuzz.token_sort_ratio(wanted, low))
            if score >= FUZZY_MIN:
                whole.append((score, key, entity))
            elif partial and len(wanted) >= 4:
                words = low.replace(",", " ").split()
                asked = wanted.split()
                if words[:len(asked)] == asked or words[-len(asked):] == asked:
                    edge.append((key, entity))
    if whole:
        score, key, entity = max(whole, key=lambda item: item[0])
        return EntityMention(_lookup_key(entity, key_fields, key), entity, i, j, score / 100)
    ids = {str(e.get("id")) for _, e in edge}
    if len(ids) == 1:
        key, entity = edge[0]
        return EntityMention(_lookup_key(entity, key_fields, key), entity, i, j, 0.8)
    return None


def _lookup_key(entity: dict[str, Any], key_fields: dict[str, str | None], fallback: str) -> str:
    """The key that finds exactly this entity: its key field's value, else the matched key value."""
    key_field = key_fields.get(str(entity.get("entity_type")))
    value = entity.get(key_field) if key_field else None
    return value if isinstance(value, str) and value else fallback
