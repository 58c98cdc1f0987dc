"""The QueryPlan (SPEC §11): what a planner turns a question into, validated with Pydantic.

A plan's queries are strings our query engine runs (``dialect`` ``sql`` for SELECT statements, ``rem`` for the
LOOKUP / SEARCH / TRAVERSE forms) with every value from the question bound as a parameter, never pasted into
the string.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: below this confidence a plan must say why (``explanation``)
EXPLAIN_BELOW = 0.6


class QueryType(enum.StrEnum):
    lookup = "lookup"
    search = "search"
    traverse = "traverse"
    sql = "sql"
    hybrid = "hybrid"


class Dialect(enum.StrEnum):
    sql = "sql"  # SELECT ... (docs/query.md)
    rem = "rem"  # LOOKUP / SEARCH / TRAVERSE forms (docs/query.md, "REM forms")


class Trigger(enum.StrEnum):
    no_results = "no_results"
    error = "error"
    low_quality = "low_quality"


class ExecutionMode(enum.StrEnum):
    single_pass = "single_pass"
    multi_stage = "multi_stage"
    adaptive = "adaptive"


class PlanQuery(BaseModel):
    """One runnable query: ``Database.query(query_string, parameters)``."""

    model_config = ConfigDict(extra="forbid")

    dialect: Dialect
    query_string: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)


class FallbackQuery(PlanQuery):
    """A query run when the stage before it meets ``trigger``."""

    trigger: Trigger


class QueryPlan(BaseModel):
    """Exactly the fields of SPEC §11."""

    model_config = ConfigDict(extra="forbid")

    query_type: QueryType
    confidence: float = Field(ge=0.0, le=1.0)
    primary_query: PlanQuery
    fallback_queries: list[FallbackQuery] = Field(default_factory=list)
    execution_mode: ExecutionMode = ExecutionMode.single_pass
    schema_hints: list[str] = Field(default_factory=list)
    reasoning: str = ""
    explanation: str | None = None
    next_steps: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _explained(self) -> QueryPlan:
        if self.confidence < EXPLAIN_BELOW and not (self.explanation or "").strip():
            raise ValueError(f"a plan with confidence {self.confidence} < {EXPLAIN_BELOW} needs an explanation")
        return self
