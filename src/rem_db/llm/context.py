"""What a planner is given: the question, the schemas it may use, and read-only probes of the data.

Built by the ask service (``llm/ask.py``) after schema discovery; planners never see the Database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .plan import QueryPlan


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str  # JSON Schema type ("string", "number", "integer", "boolean", "array", "object") or format
    description: str = ""
    enum: tuple[Any, ...] = ()
    indexed: bool = False
    #: distinct values seen in the data (indexed text fields with few values; empty otherwise)
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SchemaInfo:
    """One table as a planner sees it."""

    name: str
    description: str = ""
    fields: tuple[FieldInfo, ...] = ()
    key_field: str | None = None
    embedding_fields: tuple[str, ...] = ()
    category: str | None = None
    row_count: int = 0

    def describe(self) -> str:
        """A compact text form for an LLM prompt."""
        parts = [f"table {self.name}" + (f" ({self.row_count} rows)" if self.row_count else "")]
        if self.description:
            parts.append(f"  description: {self.description}")
        if self.key_field:
            parts.append(f"  key field: {self.key_field}")
        if self.embedding_fields:
            parts.append(f"  searchable text (SEARCH): {', '.join(self.embedding_fields)}")
        for f in self.fields:
            line = f"  - {f.name}: {f.type}"
            if f.indexed:
                line += " (indexed)"
            if f.enum:
                line += f" one of {list(f.enum)}"
            elif f.values:
                line += f" values seen: {list(f.values)}"
            if f.description:
                line += f" — {f.description}"
            parts.append(line)
        return "\n".join(parts)


@dataclass
class PlanContext:
    """The question and what the planner may consult. The probes are read-only and cheap:

    - ``lookup(keys)``: key -> entities whose key values equal it (exact key index);
    - ``fuzzy(text, limit)``: ``[(entity, score)]`` of key values near ``text``;
    - ``validate(plan)``: ``None`` when every query of the plan parses against the schemas, else the error
      message (used by LLM planners for their repair round).
    """

    question: str
    schemas: list[SchemaInfo]
    edge_types: list[str] = field(default_factory=list)
    #: edge type -> the (source table, destination table) pairs seen in the data
    edge_ends: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    schema_hint: str | None = None
    lookup: Callable[[list[str]], dict[str, list[dict[str, Any]]]] = lambda keys: {}
    fuzzy: Callable[[str, int], list[tuple[dict[str, Any], float]]] = lambda text, limit: []
    validate: Callable[[QueryPlan], str | None] = lambda plan: None
