"""People and entities named in a period's text, recognised through the key index: capitalised phrases
(``Ada Lovelace``, ``Project Atlas``) and quoted names are looked up exactly, case as written, across the
tenant's tables. Found rows become ``contains`` / ``captured_in`` edges; those of person-like tables also
become the moment's ``people``."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..entities.engine import EntityEngine
from ..errors import ValidationError
from .window import SKIPPED_TABLES, Item

#: distinct candidate phrases looked up per period (the most frequent)
MAX_CANDIDATES = 64
#: tables whose rows are people (by name: ``people``, ``person``, ``contacts``, ``users`` …)
PERSON_TABLE = re.compile(r"(^|_)(person|persons|people|contact|contacts|user|users|member|members|author|authors)"
                          r"($|_)")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|van\s+)?[A-Z][\w'’.-]*){0,3}")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{2,60})[\"”]")


@dataclass
class Recognised:
    """Rows named in a period (not the period's own rows), and the people among them."""

    entities: list[dict[str, Any]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)


def candidates(items: list[Item]) -> list[str]:
    """Phrases that may be key values, most frequent first (then alphabetical), at most MAX_CANDIDATES."""
    counts: Counter[str] = Counter()
    for item in items:
        for match in _CAPITALISED.finditer(item.text):
            phrase = match.group(0).strip(".-'’ ")
            words = phrase.split()
            counts[phrase] += 1
            if len(words) > 1:  # "Met Ada Lovelace": try the tail too
                counts[" ".join(words[1:])] += 1
        for match in _QUOTED.finditer(item.text):
            counts[match.group(1).strip()] += 1
    ranked = sorted((p for p in counts if len(p) >= 2), key=lambda p: (-counts[p], p))
    return ranked[:MAX_CANDIDATES]


def recognise(engine: EntityEngine, items: list[Item]) -> Recognised:
    """The rows whose key value (name, key, uri, key field) is one of the period's candidate phrases."""
    phrases = candidates(items)
    if not phrases:
        return Recognised()
    try:
        found = engine.lookup_batch(phrases)
    except ValidationError:  # a phrase no key can hold (a lone surrogate): nothing to find
        return Recognised()
    own = {item.id for item in items}
    out = Recognised()
    seen: set[str] = set()
    for phrase in phrases:
        for entity in found.get(phrase, []):
            table = entity["entity_type"]
            if table in SKIPPED_TABLES or entity["id"] in seen:
                continue
            seen.add(entity["id"])
            if entity["id"] not in own:  # the period's own rows are contained already
                out.entities.append(entity)
            if PERSON_TABLE.search(table) and phrase not in out.people:
                out.people.append(phrase)
    return out
