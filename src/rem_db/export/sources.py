"""What an export needs from the rest of the database, and nothing more.

The composition root (:meth:`rem_db.core.Core.export_sources`) builds one :class:`ExportSources` per export:
the schema registry (a table's columns), the entity engine (rows, the row lists, the store's ordered reads),
the vector store and the provider a table was embedded with (``--with-embeddings``), the query engine's
filter compiler (``where``), and the database's place and tenant for the ``--all`` manifest. Nothing in
:mod:`rem_db.export` sees the Database itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..embeddings.providers import EmbeddingProviders
from ..entities.engine import EntityEngine
from ..index.vector_store import VectorStore
from ..schema.registry import SchemaRegistry

if TYPE_CHECKING:  # the query engine is built on first use; export only needs its filters' type
    from ..query.filters import Filter

FilterCompiler = Callable[[str, str, Any], "Filter"]
"""``(table, where, params) -> Filter``: :meth:`rem_db.query.engine.QueryEngine.filter`."""
RecordedProvider = Callable[[str], "dict[str, Any] | None"]
"""``table -> {"provider", "dimensions"}`` the table's vectors were written with, or ``None``
(:meth:`rem_db.embeddings.writer.EmbeddingWriter.recorded`)."""


@dataclass(frozen=True)
class ExportSources:
    """The collaborators of one export (:func:`rem_db.export.export`)."""

    schemas: SchemaRegistry
    entities: EntityEngine
    vectors: VectorStore
    recorded: RecordedProvider
    compile_filter: FilterCompiler
    providers: EmbeddingProviders
    """The database's embedding providers (specs, dimensions, ``P8_ALT_EMBEDDING``)."""
    path: Path
    """The database directory (named in the ``--all`` manifest)."""
    tenant: str
    row_group_size: int | None = None
    """Rows per chunk and Parquet row group; ``None`` reads ``P8_EXPORT_ROW_GROUP_SIZE`` when the export
    starts (:func:`rem_db.export.row_group_size`)."""
