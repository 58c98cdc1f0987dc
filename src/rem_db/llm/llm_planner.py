"""LLM planners (``openai:…``, ``anthropic:…``, ``cerebras:…``): a chat model writes the QueryPlan.

The model gets the grammar and rules (:mod:`.prompts`), the offered schemas and edge types, and the question;
it answers in the provider's structured-output form. The answer must parse as JSON, validate as a
:class:`~.plan.QueryPlan`, bind every value as a ``:name`` parameter (no quoted text from the question in a
query string) and pass ``context.validate``. If it does not, the error goes back to the model once (the repair
round); a second failure, a timeout, 429 or 5xx that outlasted the retries, or a refused request give the
offline planner's plan with the reason in ``explanation``. A missing or wrong key and an unreachable server
raise :class:`~rem_db.errors.LLMError`: a setting to fix is not hidden behind a fallback (docs/ask.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pydantic

from ..config import Settings
from ..errors import LLMError
from .clients.base import ChatClient, chat_client
from .context import PlanContext
from .plan import QueryPlan
from .planner import choose_planner, register_planner
from .prompts import SYSTEM_PROMPT, plan_data, plan_schema, question_message, repair_message

#: answer budget of one plan (a plan with two fallbacks is ~300 tokens)
MAX_PLAN_TOKENS = 1500

_STRING = re.compile(r"'((?:[^']|'')*)'")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


class LLMPlanner:
    """A planner over one chat client, falling back to the offline planner."""

    def __init__(self, client: ChatClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.name = f"{client.provider}:{client.model}"

    def plan(self, context: PlanContext) -> QueryPlan:
        messages: list[dict[str, Any]] = [{"role": "user", "content": question_message(context)}]
        schema = plan_schema()
        error = ""
        for _ in range(2):  # the first answer and one repair round
            try:
                raw = self.client.complete(SYSTEM_PROMPT, messages, json_schema=schema, max_tokens=MAX_PLAN_TOKENS)
            except LLMError as exc:
                if not exc.transient:
                    raise
                if exc.kind != "output":
                    return self._fallback(context, f"the model {self.name} could not be used ({exc})")
                raw, error = "", str(exc)
            else:
                plan, error = check_answer(raw, context)
                if plan is not None:
                    return plan
            messages += [{"role": "assistant", "content": raw or "(no answer)"},
                         {"role": "user", "content": repair_message(error)}]
        return self._fallback(context, f"the plan of {self.name} was rejected after a repair round ({error})")

    def _fallback(self, context: PlanContext, reason: str) -> QueryPlan:
        offline = choose_planner("offline", self.settings).plan(context)
        note = f"{reason}; the offline planner's plan is used"
        explanation = f"{note}. {offline.explanation}" if offline.explanation else note
        return offline.model_copy(update={"explanation": explanation})


def check_answer(raw: str, context: PlanContext) -> tuple[QueryPlan | None, str]:
    """``(plan, "")`` for a usable answer, else ``(None, what is wrong)`` in words a model can act on."""
    try:
        data = parse_json(raw)
    except ValueError as exc:
        return None, f"the answer is not valid JSON ({exc})"
    try:
        plan = QueryPlan.model_validate(plan_data(data))
    except pydantic.ValidationError as exc:
        return None, "the plan does not fit the schema: " + _describe(exc)
    problem = pasted_values(plan, context) or parameter_mismatch(plan)
    if problem:
        return None, problem
    try:
        problem = context.validate(plan)
    except Exception as exc:  # a probe failure is reported, not raised: the plan can be repaired
        problem = str(exc) or type(exc).__name__
    return (None, problem) if problem else (plan, "")


def parse_json(raw: str) -> Any:
    """The JSON value of a model's answer, tolerating a Markdown code fence or words around one object."""
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        raise ValueError("the answer is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first, last = text.find("{"), text.rfind("}")
        if 0 <= first < last and (first, last) != (0, len(text) - 1):
            try:
                return json.loads(text[first:last + 1])
            except json.JSONDecodeError:
                pass
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _queries(plan: QueryPlan) -> list[tuple[str, Any]]:
    return [("primary_query", plan.primary_query),
            *((f"fallback_queries[{i}]", q) for i, q in enumerate(plan.fallback_queries))]


def pasted_values(plan: QueryPlan, context: PlanContext) -> str | None:
    """The first quoted literal of a query string whose text comes from the question (user text pasted into a
    query instead of bound as a parameter); edge types, table names and one-letter literals are allowed."""
    question = context.question.casefold()
    allowed = {name.casefold() for name in [*context.edge_types, *(s.name for s in context.schemas)]}
    for where, query in _queries(plan):
        for match in _STRING.finditer(query.query_string):
            literal = match.group(1).replace("''", "'")
            core = literal.strip().strip("%_").strip().casefold()
            if len(core) < 2 or core in allowed or literal.casefold() in allowed:
                continue
            if core in question:
                return (f"{where}.query_string pastes {match.group(0)} from the question into the query: write a "
                        f":name placeholder there and put the value in parameters")
    return None


def parameter_mismatch(plan: QueryPlan) -> str | None:
    """A query whose ``:name`` placeholders and ``parameters`` differ, or that uses ``?`` placeholders."""
    for where, query in _queries(plan):
        text = _STRING.sub("''", query.query_string)
        if "?" in text:
            return f"{where}.query_string uses '?': write :name placeholders, with the values in parameters"
        used = set(_NAMED.findall(text))
        given = set(query.parameters)
        if used - given:
            return f"{where}.query_string uses :{sorted(used - given)[0]} but parameters has no value for it"
        if given - used:
            return f"{where}.parameters has {sorted(given - used)[0]!r}, which query_string does not use"
    return None


def _describe(exc: pydantic.ValidationError, limit: int = 5) -> str:
    problems = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "plan"
        problems.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def _factory(provider: str) -> Any:
    def create(model: str, settings: Settings) -> LLMPlanner:
        return LLMPlanner(chat_client(f"{provider}:{model}", settings), settings)

    create.__name__ = f"create_{provider}_planner"
    return create


register_planner("openai", _factory("openai"))
register_planner("anthropic", _factory("anthropic"))
register_planner("cerebras", _factory("cerebras"))
