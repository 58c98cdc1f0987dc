"""What the ingest pipeline needs from the rest of the database, and nothing more.

The composition root (:meth:`rem_db.core.Core.ingest_sources`) builds one :class:`IngestSources` per run:
the entity engine (stored documents, the field index, the grouped atomic writes), the schema registry (the
chunk and records tables) and the database directory, which a directory walk never descends into. Nothing in
:mod:`rem_db.ingest` sees the Database itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..entities.engine import EntityEngine
from ..schema.registry import SchemaRegistry


@dataclass(frozen=True)
class IngestSources:
    """The collaborators of one :class:`~rem_db.ingest.pipeline.Ingestor`."""

    entities: EntityEngine
    schemas: SchemaRegistry
    path: Path
    """The database directory, excluded from directory walks (a database inside the ingested tree)."""
