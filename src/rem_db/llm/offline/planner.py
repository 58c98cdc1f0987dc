"""The offline planner: rules over the schemas, the key index and the edge types; deterministic, no model.

Order of decisions (docs/ask.md, "The offline planner"):

1. entities named in the question (key index, exact then fuzzy);
2. an entity and a relation word -> TRAVERSE from it along the edge type;
3. the best table; its conditions (values, numbers, dates) and aggregation / grouping / ranking words;
   aggregation or ranking -> SQL; conditions and nothing else -> SQL; conditions and other words -> a hybrid
   SEARCH with the conditions as its WHERE;
4. entities and nothing else -> LOOKUP;
5. otherwise a search: in the best table when the question points at one, else across every table.

Confidence is the share of the question's meaningful words the planner understood (words left for a search
count half); below 0.6 the plan says what was not understood.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..context import PlanContext
from ..plan import EXPLAIN_BELOW, ExecutionMode, FallbackQuery, PlanQuery, QueryPlan, QueryType, Trigger
from . import build
from .aggregates import aggregation
from .build import Condition, Select
from .conditions import Found, dates, numbers, stock_phrases, values
from .entities import EntityMention, recognise
from .relations import Relation, find
from .tables import TableScore, score_tables
from .text import REQUEST, Token, tokens
from .vocab import TableVocab, build_vocab

BASE, SPAN = 0.3, 0.65
NO_TABLE_CAP = 0.45
MIN_EVIDENCE = 1.0  # a table the question points at (its name, a field, a value)


class OfflinePlanner:
    """Plans from the question's words and the schemas; ``now`` fixes the clock for relative dates."""

    name = "offline"

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now or (lambda: dt.datetime.now(dt.UTC))

    def plan(self, context: PlanContext) -> QueryPlan:
        return _Planning(context, self._now()).run()


class _Planning:
    def __init__(self, context: PlanContext, now: dt.datetime) -> None:
        self.ctx = context
        self.now = now
        self.question = context.question.strip()
        self.toks: list[Token] = tokens(self.question)
        self.vocabs: list[TableVocab] = build_vocab(context.schemas)
        self.used: set[int] = set()
        self.notes: list[str] = []
        self.tables: list[str] = []  # tables the plan reads besides those its queries name

    # -- the decisions ---------------------------------------------------------------------------------
    def run(self) -> QueryPlan:
        soft = self._soft_tokens()
        mentions = recognise(self.question, self.toks, self.ctx, set(), soft) if self.toks else []
        for m in mentions:
            self.used |= m.tokens
        if mentions:
            self.notes.append("named " + ", ".join(f"{m.key!r} ({m.table})" for m in _unique(mentions)))
        if mentions:
            relation = find(self.toks, self.ctx, mentions[0], self.vocabs, self.used)
            if relation is not None:
                return self._traverse(mentions[0], relation)
        scores = score_tables(self.toks, self.vocabs, self.used, self.ctx.schema_hint, {m.table for m in mentions})
        best = scores[0] if scores else None
        if best is not None and (best.evidence >= MIN_EVIDENCE or not mentions):
            plan = self._on_table(best, mentions)
            if plan is not None:
                return plan
        if mentions:
            return self._lookup(mentions)
        return self._search(best)

    def _soft_tokens(self) -> set[int]:
        soft = set()
        for tok in self.toks:
            for v in self.vocabs:
                if v.names_table(tok) or tok.lower in v.values or v.field_mentioned(tok) is not None:
                    soft.add(tok.index)
        return soft

    def _on_table(self, best: TableScore, mentions: list[EntityMention]) -> QueryPlan | None:
        table = best.vocab
        self.used |= best.name_tokens
        found = self._conditions(table)
        agg = aggregation(self.toks, table, self.used | found.used, self.question)
        self.used |= found.used | agg.used
        for cond in found.conditions:
            self.notes.append(f"condition {cond.describe()}")
        others = [m for m in mentions if m.table != table.name]  # names from other tables: words to search
        for m in others:
            self.used -= m.tokens
        left = self._leftover()
        if agg.found:
            self.notes.append(f"{agg.kind} on {table.name}")
            select = Select(table.name, found.conditions, agg.columns, agg.group_by, agg.order_by, agg.limit)
            return self._plan(QueryType.sql, select.query(), self._search_fallbacks(table, [Trigger.error]),
                              f"SQL on {table.name}")
        if found.conditions and not left:
            select = Select(table.name, found.conditions)
            return self._plan(QueryType.sql, select.query(),
                              self._search_fallbacks(table, [Trigger.no_results, Trigger.error]),
                              f"SQL on {table.name}")
        if found.conditions and table.info.embedding_fields:
            text = " ".join(t.text for t in left)
            primary = build.search(text, table.name, found.conditions)
            fallbacks = [FallbackQuery(trigger=Trigger.no_results, **build.search(text, table.name).model_dump()),
                         FallbackQuery(trigger=Trigger.error, **Select(table.name, found.conditions).query()
                                       .model_dump())]
            return self._plan(QueryType.hybrid, primary, fallbacks,
                              f"hybrid search in {table.name} for {text!r} with conditions")
        if mentions and not left:
            return None  # a lookup says more than "everything in the table"
        if found.conditions:  # a table without text to search: the conditions alone
            return self._plan(QueryType.sql, Select(table.name, found.conditions).query(), [],
                              f"SQL on {table.name} (it has no searchable text for {' '.join(t.text for t in left)!r})")
        if mentions:
            return None
        if not left and best.name_tokens:  # "show me all suppliers"
            select = Select(table.name, [], limit=100)
            return self._plan(QueryType.sql, select.query(), [], f"every row of {table.name}")
        return self._search(best)

    def _conditions(self, table: TableVocab) -> Found:
        total = Found()
        for step in (lambda used: stock_phrases(self.toks, table, used),
                     lambda used: dates(self.toks, table, used, self.now),
                     lambda used: numbers(self.toks, table, used, self.question),
                     lambda used: values(self.toks, table, used)):
            found = step(self.used | total.used)
            total.conditions += found.conditions
            total.used |= found.used
        return total

    def _leftover(self) -> list[Token]:
        return [t for t in self.toks if t.index not in self.used and not t.is_stop and t.lower not in REQUEST]

    # -- plans -------------------------------------------------------------------------------------------
    def _traverse(self, mention: EntityMention, rel: Relation) -> QueryPlan:
        self.used |= rel.used
        self.tables.append(mention.table)
        self.notes.append(f"relation {rel.rel_type} ({rel.direction})")
        primary = build.traverse(mention.key, rel.rel_type, rel.direction, rel.depth)
        fallbacks = []
        if rel.direction != "both":
            other = "in" if rel.direction == "out" else "out"
            fallbacks.append(FallbackQuery(trigger=Trigger.no_results,
                                           **build.traverse(mention.key, rel.rel_type, other, rel.depth).model_dump()))
        fallbacks.append(FallbackQuery(trigger=Trigger.error, **build.lookup([mention.key]).model_dump()))
        plan = self._plan(QueryType.traverse, primary, fallbacks,
                          f"walk {rel.rel_type} edges {rel.direction} from {mention.key!r}")
        if rel.guessed:  # the direction came from the phrasing
            confidence = round(max(0.0, plan.confidence - 0.05), 2)
            explanation = plan.explanation or (self._explain(confidence) if confidence < EXPLAIN_BELOW else None)
            plan = plan.model_copy(update={"confidence": confidence, "explanation": explanation})
        return plan

    def _lookup(self, mentions: list[EntityMention]) -> QueryPlan:
        keys = list(dict.fromkeys(m.key for m in mentions))
        self.tables += [m.table for m in mentions]
        fallback = FallbackQuery(trigger=Trigger.no_results, **build.search(self.question, None).model_dump())
        return self._plan(QueryType.lookup, build.lookup(keys), [fallback], "look up " + ", ".join(map(repr, keys)))

    def _search(self, best: TableScore | None) -> QueryPlan:
        table = best.vocab if best is not None and best.evidence >= MIN_EVIDENCE else None
        if table is not None and not table.info.embedding_fields:
            self.notes.append(f"{table.name} has no searchable text")
            table = None
        if table is not None:
            self.used |= best.name_tokens if best is not None else set()
            fallbacks = [FallbackQuery(trigger=t, **build.search(self.question, None).model_dump())
                         for t in (Trigger.no_results, Trigger.low_quality)]
            return self._plan(QueryType.search, build.search(self.question, table.name), fallbacks,
                              f"search {table.name} by meaning and keywords")
        self.notes.append("no table, field or known name recognised")
        return self._plan(QueryType.search, build.search(self.question, None), [],
                          "search every table by meaning and keywords", cap=NO_TABLE_CAP)

    def _search_fallbacks(self, table: TableVocab, triggers: list[Trigger]) -> list[FallbackQuery]:
        if not table.info.embedding_fields:
            return [FallbackQuery(trigger=t, **build.search(self.question, None).model_dump()) for t in triggers]
        return [FallbackQuery(trigger=t, **build.search(self.question, table.name).model_dump()) for t in triggers]

    def _plan(self, kind: QueryType, primary: PlanQuery, fallbacks: list[FallbackQuery], reasoning: str,
              cap: float = 1.0) -> QueryPlan:
        confidence = min(self._confidence(kind), cap)
        notes = "; ".join(self.notes)
        return QueryPlan(
            query_type=kind, confidence=confidence, primary_query=primary, fallback_queries=fallbacks,
            execution_mode=ExecutionMode.multi_stage if fallbacks else ExecutionMode.single_pass,
            schema_hints=list(dict.fromkeys(self.tables + _tables_of(primary, fallbacks, self.ctx))),
            reasoning=f"{reasoning}" + (f" ({notes})" if notes else ""),
            explanation=self._explain(confidence) if confidence < EXPLAIN_BELOW else None,
            next_steps=_next_steps(confidence, kind),
        )

    def _confidence(self, kind: QueryType) -> float:
        meaningful = [t for t in self.toks if not t.is_stop and t.lower not in REQUEST]
        if not meaningful:
            return BASE
        understood = sum(1 for t in meaningful if t.index in self.used)
        searched = len(meaningful) - understood if kind in (QueryType.search, QueryType.hybrid) else 0
        share = (understood + 0.5 * searched) / len(meaningful)
        return round(min(0.95, BASE + SPAN * share), 2)

    def _explain(self, confidence: float) -> str:
        left = [t.text for t in self._leftover()]
        parts = [f"confidence {confidence:.2f}: the offline planner understood only part of the question"]
        if left:
            parts.append("not understood: " + ", ".join(repr(w) for w in left[:10]))
        if self.notes:
            parts.append("understood: " + "; ".join(self.notes))
        return ". ".join(parts) + ". Results come from a search by meaning; name a table with --schema or "\
            "configure a model (P8_DEFAULT_LLM) for better plans."


def _unique(mentions: list[EntityMention]) -> list[EntityMention]:
    seen: dict[str, EntityMention] = {}
    for m in mentions:
        seen.setdefault(m.key, m)
    return list(seen.values())


def _tables_of(primary: PlanQuery, fallbacks: list[FallbackQuery], ctx: PlanContext) -> list[str]:
    names = [s.name for s in ctx.schemas]
    text = " ".join([primary.query_string, *(f.query_string for f in fallbacks)])
    return [n for n in names if f'"{n}"' in text]


def _next_steps(confidence: float, kind: QueryType) -> list[str]:
    if confidence >= EXPLAIN_BELOW:
        return []
    steps = ["name the table with --schema", "ask with the product code, name or id of what you mean"]
    if kind in (QueryType.search, QueryType.hybrid):
        steps.append("use `rem query` with SQL for exact conditions")
    return steps


__all__ = ["Condition", "OfflinePlanner"]
