"""What the query engine needs from the rest of the database, and nothing more.

The composition root builds one :class:`QuerySources` per open database: the schema registry (to check
queries against their tables), the entity engine (rows, the field index, the store's ordered reads) and a
:class:`FormBackend` answering the REM forms that other features own (``SEARCH`` through vector search,
``TRAVERSE`` through the graph, ``LOOKUP`` through the key index). Nothing in :mod:`rem_db.query` sees the
Database itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..entities.engine import EntityEngine
from ..schema.registry import SchemaRegistry

Entity = dict[str, Any]


class FormBackend(Protocol):
    """Answers ``LOOKUP``, ``SEARCH`` and ``TRAVERSE`` (the Database facade implements it, as may an adapter
    over the services it delegates to)."""

    def lookup_batch(self, keys: list[str], include_deleted: bool = False) -> dict[str, list[Entity]]:
        """Key -> the entities of any table whose uri, key field, ``key`` or ``name`` equals it."""
        ...

    def search(self, query: str, schema: str | None = None, top_k: int = 10, where: str | None = None,
               hybrid: bool = False, include_deleted: bool = False,
               params: Any = None) -> list[tuple[Entity, float]]:
        """``[(entity, score)]`` best first; ``where`` may be a :class:`~.filters.BoundWhere`."""
        ...

    def traverse(self, start: Any, depth: int = 1, direction: str = "out", rel_type: Any = None,
                 strategy: str = "bfs", limit: int | None = None,
                 include_deleted: bool = False) -> list[dict[str, Any]]:
        """``[{"entity", "depth", "path"}]`` of what is reachable from ``start``."""
        ...


@dataclass(frozen=True)
class QuerySources:
    """The collaborators of one :class:`~.engine.QueryEngine`."""

    schemas: SchemaRegistry
    entities: EntityEngine
    forms: FormBackend
