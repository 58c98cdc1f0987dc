"""Planners behind a registry (SPEC §11): the built-in offline planner and LLM planners by provider.

A planner turns a :class:`~.context.PlanContext` into a :class:`~.plan.QueryPlan`. ``P8_DEFAULT_LLM`` or
``--model`` name one as ``provider:model`` (``openai:gpt-4o-mini``, ``anthropic:claude-…``,
``cerebras:llama-…``); no model means the offline planner, which needs nothing and always answers. A
provider is one module ending in one registration line::

    register_planner("openai", create)

``create(model, settings)`` makes the planner. LLM planners fall back to the offline planner's plan (with
the failure in ``explanation``) when the model's output cannot be used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..config import Settings
from ..errors import ConfigError
from ..registry import Registry
from .context import PlanContext
from .plan import QueryPlan


class Planner(Protocol):
    #: ``provider:model`` (``offline`` for the built-in planner)
    name: str

    def plan(self, context: PlanContext) -> QueryPlan: ...


PlannerFactory = Callable[[str, Settings], Planner]

#: modules that register the built-in planners (imported on the first lookup)
BUILTIN_PLANNERS = ("rem_db.llm.offline", "rem_db.llm.llm_planner")

_registry: Registry[PlannerFactory] = Registry("planner provider", BUILTIN_PLANNERS)


def register_planner(provider: str, factory: PlannerFactory, *, replace: bool = False) -> None:
    """Make ``provider:<model>`` resolve to ``factory(model, settings)``."""
    if not provider or ":" in provider:
        raise ValueError(f"planner provider {provider!r} must be a non-empty name without ':'")
    _registry.add(provider, factory, replace=replace, same=lambda a, b: a is b)


def planner_providers() -> list[str]:
    return _registry.names()


def choose_planner(model: str | None, settings: Settings) -> Planner:
    """The planner for ``model`` (``provider:model``), else ``P8_DEFAULT_LLM``, else the offline planner."""
    spec = model or settings.default_llm or "offline"
    provider, _, name = spec.partition(":")
    factory = _registry.get(provider.strip().lower())
    if factory is None:
        raise ConfigError(f"unknown model {spec!r}: expected provider:model with provider one of "
                          f"{', '.join(planner_providers())}")
    return factory(name.strip(), settings)
