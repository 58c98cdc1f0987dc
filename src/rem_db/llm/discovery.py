"""Schema discovery (SPEC §11): which tables a question is offered to the planner with.

The ``schema`` hint comes first. With at most ``P8_SCHEMA_BRUTE_FORCE_LIMIT`` candidate tables every one is
offered; above that the ``P8_SCHEMA_SEARCH_TOP_K`` whose descriptions (name, description and field
descriptions) are nearest the question by cosine similarity of their embeddings. The description vectors
are computed here, in memory, with the database's default embedding provider and kept per process (keyed
by provider and text), so a fresh or read-only database discovers from the first question without writing
anything (the ``schemas`` table embeds its rows only lazily).

Candidate tables: every non-system table, plus the system tables that hold rows (documents, resources,
moments, sessions, messages), never ``schemas`` itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..config import Settings
from ..embeddings.providers import EmbeddingProviders
from ..entities.engine import EntityEngine
from ..errors import SchemaError
from ..schema.model import TableSchema
from ..schema.registry import SchemaRegistry

SCHEMAS_TABLE = "schemas"
CACHE_SIZE = 1024
_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_lock = threading.Lock()


def candidates(schemas: SchemaRegistry, entities: EntityEngine) -> list[TableSchema]:
    """The tables a question may be about (see the module docstring)."""
    out = []
    for schema in schemas.all():
        if schema.short_name == SCHEMAS_TABLE:
            continue
        if schema.category == "system" and not entities.fields.count_table(schema.short_name):
            continue
        out.append(schema)
    return out


def description_text(schema: TableSchema) -> str:
    """What a table's discovery vector is computed from: its name, description and field descriptions."""
    parts = [f"{schema.short_name.replace('_', ' ')}: {schema.description}"]
    for name, prop in schema.properties.items():
        desc = prop.get("description") if isinstance(prop, dict) else None
        parts.append(f"{name.replace('_', ' ')}" + (f" ({desc})" if isinstance(desc, str) and desc else ""))
    return "; ".join(parts)


def _embed(providers: EmbeddingProviders, texts: list[str]) -> np.ndarray:
    provider = providers.get(None)
    spec = provider.spec
    with _lock:
        missing = [t for t in dict.fromkeys(texts) if (spec, t) not in _vectors]
    if missing:
        matrix = provider.embed_batch(missing)
        with _lock:
            for text, vector in zip(missing, matrix, strict=True):
                _vectors[(spec, text)] = np.asarray(vector, dtype=np.float32)
            while len(_vectors) > CACHE_SIZE:
                _vectors.popitem(last=False)
    with _lock:
        rows = [_vectors.get((spec, t)) for t in texts]
    if any(r is None for r in rows):  # evicted meanwhile by another thread: compute what is missing again
        return np.vstack([r if r is not None else provider.embed_batch([t])[0] for r, t in zip(rows, texts,
                                                                                                 strict=True)])
    return np.vstack([r for r in rows if r is not None])


def discover(question: str, hint: str | None, schemas: SchemaRegistry, entities: EntityEngine,
             settings: Settings, providers: EmbeddingProviders) -> list[TableSchema]:
    """The tables offered to the planner, most relevant first; an unknown ``hint`` is a SchemaError naming it
    and listing the tables."""
    tables = candidates(schemas, entities)
    first: list[TableSchema] = []
    if hint is not None:
        schema = schemas.find(hint)
        if schema is None or schema.short_name == SCHEMAS_TABLE:
            names = ", ".join(t.short_name for t in tables) or "none"
            raise SchemaError(f"unknown schema {hint!r} given as the ask hint (tables: {names})")
        first = [schema]
        tables = [t for t in tables if t.short_name != hint]
    if len(tables) + len(first) <= settings.schema_brute_force_limit:
        return first + tables
    ranked = rank(question, tables, providers)
    return first + ranked[:settings.schema_search_top_k]


def rank(question: str, tables: list[TableSchema], providers: EmbeddingProviders) -> list[TableSchema]:
    """``tables`` nearest ``question`` first (cosine similarity of the description vectors)."""
    if not tables:
        return []
    matrix = _embed(providers, [question, *(description_text(t) for t in tables)])
    matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    scores = matrix[1:] @ matrix[0]
    order = np.argsort(-scores, kind="stable")
    return [tables[int(n)] for n in order]


def forget_vectors() -> None:
    """Drop the process's cached description vectors (tests)."""
    with _lock:
        _vectors.clear()
