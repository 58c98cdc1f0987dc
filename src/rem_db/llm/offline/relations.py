"""Relation words mapped to the edge types present in the data ("suppliers of X", "who reports to Y", "orders
containing Z"), with the direction of the walk from the named entity.

A word matches an edge type when its stem is like a word of the type's name (``supplies`` ~ ``supplied_by``)
or like one of the everyday words below for it; a table name at the other end of the edge counts too
("which *customer* placed ORD-1008"). The direction comes from where the entity's table sits on the edge
(source: out, destination: in). For an edge between rows of one table (``reports_to``) the words decide:
"reports to Y" / "works for Y" / "Y's team" walk in, "Y's manager" / "who does Y report to" walk out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import PlanContext
from .entities import EntityMention
from .text import Token, name_words, similar, stem
from .vocab import TableVocab

_FILLER = frozenset({"by", "to", "of", "ha", "has", "is", "in", "on", "for", "with", "at", "from"})
#: everyday words for common relation words, with the side of the edge the word names (``dst``: the answer is
#: the destination, so walk out; ``src``: walk in; None: decided by the phrasing)
_WORDS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "supply": (("supplier", "dst"), ("vendor", "dst"), ("provider", "dst"), ("provide", None), ("source", "dst"),
               ("make", None), ("maker", "dst"), ("manufacturer", "dst"), ("come", None)),
    "report": (("manager", "dst"), ("boss", "dst"), ("supervisor", "dst"), ("lead", "dst"), ("team", "src"),
               ("subordinate", "src"), ("work", None), ("under", "src")),
    "order": (("buy", None), ("bought", None), ("purchase", None), ("customer", "dst"), ("buyer", "dst"),
              ("place", None)),
    "contain": (("include", None), ("item", "dst"), ("product", "dst"), ("line", "dst"), ("in", "dst")),
    "handl": (("process", None), ("serve", None), ("served", None), ("deal", None), ("sold", None)),
    "describ": (("guide", "src"), ("document", "src"), ("article", "src"), ("explain", None),
                ("cover", None)),
    "own": (("owner", "dst"), ("belong", None)),
    "chunk": (("part", None), ("section", None), ("passage", None)),
    "relat": (("related", None), ("link", None), ("connect", None)),
}
_IN_AFTER = frozenset({"to", "by", "for", "under", "of"})  # "reports to Y", "ordered by Y", "works for Y"
DEEP_WORDS = frozenset({"indirectly", "everyone", "whole", "entire", "chain", "all", "levels", "anyone"})
DEEP = 3


@dataclass
class Relation:
    rel_type: str
    direction: str
    depth: int
    used: set[int]
    score: float
    guessed: bool  # the direction came from the phrasing, not from the tables at the edge's ends


def _parts(rel: str) -> list[str]:
    return [p for p in name_words(rel) if p not in _FILLER] or name_words(rel)


def _word_hits(rel: str, toks: list[Token], skip: set[int]) -> list[tuple[int, str | None]]:
    """Tokens naming ``rel``: ``(token index, side named)``."""
    hits: list[tuple[int, str | None]] = []
    parts = _parts(rel)
    for tok in toks:
        if tok.index in skip or (tok.is_stop and tok.lower not in ("under", "in")):
            continue
        for part in parts:
            if similar(tok.stem, part) or (tok.stem.startswith(part) and len(part) >= 4):
                hits.append((tok.index, None))
                break
            synonyms = next((words for root, words in _WORDS.items() if part.startswith(root)), ())
            side = next((s for word, s in synonyms if similar(tok.stem, stem(word)) or tok.lower == word), "none")
            if side != "none":
                hits.append((tok.index, side))
                break
    return hits


def find(toks: list[Token], context: PlanContext, entity: EntityMention, vocabs: list[TableVocab],
         skip: set[int]) -> Relation | None:
    """The best edge type for a question naming ``entity``, or None when no relation word is present."""
    best: Relation | None = None
    tables = {v.name: v for v in vocabs}
    for rel in context.edge_types:
        ends = context.edge_ends.get(rel, [])
        sources = {s for s, _ in ends}
        targets = {d for _, d in ends}
        if ends and entity.table not in sources | targets:
            continue
        own = {t.index for t in toks if entity.table in tables and tables[entity.table].names_table(t)}
        hits = _word_hits(rel, toks, skip | own)  # "order ORD-1005": the entity's own table is no relation
        other = (targets if entity.table in sources else set()) | (sources if entity.table in targets else set())
        table_hits = {t.index for t in toks if t.index not in skip
                      for name in other - {entity.table} if name in tables and tables[name].names_table(t)}
        verb_hits = [(i, side) for i, side in hits if i not in table_hits]
        if not verb_hits and not table_hits:
            continue
        score = 2.0 * len(verb_hits) + 1.5 * bool(table_hits)
        direction, guessed = _direction(entity, sources, targets, verb_hits, table_hits, toks, tables)
        depth = DEEP if any(t.lower in DEEP_WORDS for t in toks) and sources & targets else 1
        used = {i for i, _ in verb_hits} | table_hits | own
        if best is None or score > best.score:
            best = Relation(rel, direction, depth, used, score, guessed)
    return best


def _direction(entity: EntityMention, sources: set[str], targets: set[str], verb_hits: list[tuple[int, str | None]],
               table_hits: set[int], toks: list[Token], tables: dict[str, TableVocab]) -> tuple[str, bool]:
    at_source, at_target = entity.table in sources, entity.table in targets
    if at_source and not at_target:
        return "out", False
    if at_target and not at_source:
        return "in", False
    if not at_source and not at_target:
        return "both", True
    for _, side in verb_hits:  # an edge within one table: the words decide
        if side == "dst":
            return "out", True
        if side == "src":
            return "in", True
    for i, _ in verb_hits:
        following = [t for t in toks[i + 1:entity.first]]
        if following and all(t.lower in _IN_AFTER or t.lower in ("the", "a", "an") for t in following) \
                and any(t.lower in _IN_AFTER for t in following):
            return "in", True
        if i + 1 == entity.first:  # "supplies X": X is what the verb acts on
            return "in", True
    return "out", True
