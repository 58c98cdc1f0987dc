"""The ask service (SPEC §11, ``Database.ask``, ``rem ask``): a question -> a QueryPlan -> its stages' rows.

1. The question is checked: a string with something besides spaces, at most :data:`MAX_QUESTION_CHARS`
   characters, valid text (no lone surrogates); otherwise :class:`~rem_db.ValidationError`.
2. An identifier-like question (one token of letters, digits, ``-``, ``_``; at most 50 characters) is a
   LOOKUP with confidence 1.0 and no planner call (a search of the same text runs if nothing has the key).
3. Schema discovery (:mod:`.discovery`) picks the tables; the PlanContext gets them as SchemaInfo, the edge
   types with the tables at their ends, and the probes: ``lookup`` (key index), ``fuzzy`` (fuzzy key lookup),
   ``validate`` (every query parsed and checked against the schemas, nothing run: :mod:`.validate`).
4. The planner (``model``, else ``P8_DEFAULT_LLM``, else offline) writes the plan; with ``execute`` its
   stages run (:mod:`.stages`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..embeddings.providers import EmbeddingProviders
from ..entities.engine import EntityEngine
from ..errors import ConfigError, ValidationError
from ..schema.registry import SchemaRegistry
from . import discovery
from .context import PlanContext
from .plan import Dialect, ExecutionMode, FallbackQuery, PlanQuery, QueryPlan, QueryType, Trigger
from .planner import Planner, choose_planner
from .stages import answering, execute
from .tables import EdgeTypes, schema_info
from .validate import validator

if TYPE_CHECKING:
    from ..query.engine import QueryEngine

MAX_QUESTION_CHARS = 2_000
MAX_STAGES = 10
IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class AskSources:
    """What the ask service reads: schemas, entities (key index, field index, fuzzy keys), the query engine
    (built on first use), the embedding providers (discovery) and the settings (planner, discovery)."""

    schemas: SchemaRegistry
    entities: EntityEngine
    queries: Callable[[], QueryEngine]
    providers: EmbeddingProviders
    settings: Settings


def check_question(question: Any) -> str:
    """The question, stripped; a ValidationError saying what is wrong otherwise."""
    if not isinstance(question, str):
        raise ValidationError(f"a question is a string, not {type(question).__name__}")
    text = question.strip()
    if not text:
        raise ValidationError("ask needs a question: it is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValidationError(f"the question is {len(text):,} characters long; ask takes at most "
                              f"{MAX_QUESTION_CHARS:,} (ask a shorter question, or use search for long texts)")
    bad = _SURROGATE.search(text)
    if bad is not None:
        raise ValidationError(f"the question is not valid text: a lone surrogate U+{ord(bad.group(0)):04X} at "
                              f"character {bad.start() + 1}")
    return text


def identifier_plan(question: str) -> QueryPlan:
    """The plan of an identifier-like question: LOOKUP, confidence 1.0, a search when no key matches."""
    return QueryPlan(
        query_type=QueryType.lookup, confidence=1.0,
        primary_query=PlanQuery(dialect=Dialect.rem, query_string="LOOKUP :key", parameters={"key": question}),
        fallback_queries=[FallbackQuery(dialect=Dialect.rem, query_string="SEARCH :key HYBRID LIMIT 10",
                                        parameters={"key": question}, trigger=Trigger.no_results)],
        execution_mode=ExecutionMode.multi_stage,
        reasoning="the question is one identifier-like token: an exact key lookup (no planner called)",
    )


class AskService:
    """Plans and runs natural-language questions over one open database."""

    def __init__(self, sources: AskSources) -> None:
        self.sources = sources
        self.edges = EdgeTypes(sources.entities)

    def context(self, question: str, schema: str | None = None) -> PlanContext:
        """The PlanContext of a question: discovered tables, edge types and the probes."""
        src = self.sources
        tables = discovery.discover(question, schema, src.schemas, src.entities, src.settings, src.providers)
        ends = self.edges.get()
        return PlanContext(
            question=question,
            schemas=[schema_info(src.entities, t) for t in tables],
            edge_types=list(ends),
            edge_ends=ends,
            schema_hint=schema,
            lookup=self._lookup,
            fuzzy=self._fuzzy,
            validate=validator(src.queries, src.schemas, src.entities),
        )

    # the probes see the user's rows: the `schemas` table's rows (keyed by table name) are not answers
    def _lookup(self, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
        try:
            found = self.sources.entities.lookup_batch([k for k in keys if isinstance(k, str)])
        except ValidationError:  # a key that is not valid text
            return {}
        return {k: [e for e in rows if e.get("entity_type") != discovery.SCHEMAS_TABLE] for k, rows in found.items()}

    def _fuzzy(self, text: str, limit: int) -> list[tuple[dict[str, Any], float]]:
        try:
            found = self.sources.entities.lookup_fuzzy(text, limit)
        except ValidationError:  # nothing that can be a key (only spaces, a lone surrogate ...)
            return []
        return [(e, s) for e, s in found if e.get("entity_type") != discovery.SCHEMAS_TABLE]

    def plan(self, question: str, schema: str | None = None, model: str | None = None) -> tuple[QueryPlan, str]:
        """``(plan, planner name)``; identifier-like questions skip the planner (its name is then ``lookup``)."""
        text = check_question(question)
        if schema is not None:
            discovery.discover(text, schema, self.sources.schemas, self.sources.entities, self.sources.settings,
                               self.sources.providers)  # an unknown hint fails before anything else
        if IDENTIFIER.match(text):
            return identifier_plan(text), "identifier"
        planner: Planner = choose_planner(model, self.sources.settings)
        return planner.plan(self.context(text, schema)), planner.name

    def ask(self, question: str, execute_plan: bool = True, schema: str | None = None, model: str | None = None,
            max_stages: int = 3, answer: bool = False,
            run: Callable[[str, dict[str, Any]], list[dict[str, Any]]] | None = None) -> dict[str, Any]:
        """Plan (and run) a question; see ``Database.ask`` for the result's fields."""
        if isinstance(max_stages, bool) or not isinstance(max_stages, int) or not 1 <= max_stages <= MAX_STAGES:
            raise ValidationError(f"max_stages must be a whole number from 1 to {MAX_STAGES}, got {max_stages!r}")
        if answer:
            self._check_answer_model(model, execute_plan)
        started = time.perf_counter()
        plan, planner = self.plan(question, schema, model)
        if not execute_plan:
            return {"plan": plan.model_dump(mode="json"), "planner": planner,
                    "total_time_ms": round((time.perf_counter() - started) * 1000, 3)}
        runner = run or (lambda text, params: self.sources.queries().run(text, params or None))
        stages = execute(plan, runner, max_stages)
        final = answering(stages)
        result: dict[str, Any] = {
            "results": final.rows,
            "query": final.query.query_string,
            "query_type": plan.query_type.value,
            "confidence": plan.confidence,
            "stages": len(stages),
            "stage_results": [s.report(n) for n, s in enumerate(stages, start=1)],
            "total_time_ms": round((time.perf_counter() - started) * 1000, 3),
            "explanation": plan.explanation,
            "plan": plan.model_dump(mode="json"),
            "planner": planner,
        }
        if answer:
            from .answer import write_answer

            result["answer"] = write_answer(model, self.sources.settings, check_question(question), final.rows)
        return result

    def _check_answer_model(self, model: str | None, execute_plan: bool) -> None:
        """``answer`` needs the plan executed and a model: say so before anything runs."""
        from .answer import NO_MODEL

        if not execute_plan:
            raise ValidationError("an answer is written from the results: answer=True needs execute=True "
                                  "(--answer cannot be combined with --plan)")
        spec = (model or self.sources.settings.default_llm or "").strip().lower()
        if not spec or spec == "offline" or spec.startswith("offline:"):
            raise ConfigError(NO_MODEL)
