"""Which table a question is about: its name, its fields, its values, words of its description, the entities
named, the ``schema`` hint and the discovery order."""

from __future__ import annotations

from dataclasses import dataclass, field

from .conditions import MONEY_WORDS
from .text import Token
from .vocab import TableVocab

HINT_BONUS = 10.0


@dataclass
class TableScore:
    vocab: TableVocab
    score: float = 0.0
    #: score from what the question says (without the discovery-order prior)
    evidence: float = 0.0
    name_tokens: set[int] = field(default_factory=set)
    field_tokens: set[int] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)


def score_tables(toks: list[Token], vocabs: list[TableVocab], used: set[int], hint: str | None,
                 entity_tables: set[str]) -> list[TableScore]:
    """Every table with its score, best first."""
    scores = []
    count = len(vocabs)
    for rank, vocab in enumerate(vocabs):
        s = TableScore(vocab)
        for tok in toks:
            if tok.index in used or tok.is_stop:
                continue
            if vocab.names_table(tok):
                s.evidence += 3
                s.name_tokens.add(tok.index)
            elif vocab.field_mentioned(tok) is not None:
                s.evidence += 1
                s.field_tokens.add(tok.index)
            elif tok.lower in vocab.values or tok.lower.rstrip("s") in {v.rstrip("s") for v in vocab.values}:
                s.evidence += 2
            elif tok.stem in vocab.description_stems:
                s.evidence += 0.6
        if s.name_tokens:
            s.reasons.append("names the table")
        if any(t.lower in MONEY_WORDS for t in toks) and vocab.money() is not None:
            s.evidence += 0.5
        if vocab.name in entity_tables:
            s.evidence += 1
        if hint == vocab.name:
            s.evidence += HINT_BONUS
            s.reasons.append("the schema hint")
        s.score = s.evidence + 0.3 * (count - rank) / count
        if vocab.info.row_count == 0 and hint != vocab.name:
            s.score -= 1
        scores.append(s)
    scores.sort(key=lambda t: -t.score)
    return scores
