"""What an ingest run did, file by file (returned by ``Database.ingest``, printed by ``rem ingest``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: file statuses
ADDED, UPDATED, UNCHANGED, SKIPPED, FAILED = "added", "updated", "unchanged", "skipped", "failed"


@dataclass
class FileResult:
    """One file: ``status`` (added, updated, unchanged, skipped, failed), its document id, chunks written
    (documents) or rows written (records files), its detected ``kind`` (reader name) and ``content_type``, and
    for skipped/failed files the reason."""

    path: str
    status: str
    content_type: str | None = None
    kind: str | None = None
    document_id: str | None = None
    chunks: int = 0
    rows: int = 0
    table: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IngestReport:
    """Every file an ingest run looked at, in order, with totals."""

    files: list[FileResult] = field(default_factory=list)

    def _with(self, *statuses: str) -> list[FileResult]:
        return [f for f in self.files if f.status in statuses]

    @property
    def ingested(self) -> list[FileResult]:
        """Files written by this run (added or updated)."""
        return self._with(ADDED, UPDATED)

    @property
    def unchanged(self) -> list[FileResult]:
        return self._with(UNCHANGED)

    @property
    def skipped(self) -> list[FileResult]:
        """Files not ingested because there was nothing to ingest (empty, unsupported type, no text)."""
        return self._with(SKIPPED)

    @property
    def failed(self) -> list[FileResult]:
        """Files of a supported type that could not be read or written (corrupt, encrypted, invalid rows)."""
        return self._with(FAILED)

    @property
    def chunks(self) -> int:
        """Chunks written by this run."""
        return sum(f.chunks for f in self.ingested)

    @property
    def rows(self) -> int:
        """Records rows written by this run."""
        return sum(f.rows for f in self.ingested)

    def summary(self) -> dict[str, int]:
        return {"files": len(self.files), "added": len(self._with(ADDED)), "updated": len(self._with(UPDATED)),
                "unchanged": len(self.unchanged), "skipped": len(self.skipped), "failed": len(self.failed),
                "chunks": self.chunks, "rows": self.rows}

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "files": [f.to_dict() for f in self.files]}


@dataclass
class IngestProgress:
    """Passed to the ``progress`` callback: files done of the total, the file being read, chunks written so
    far, and the embedding of the write in flight (``embedded`` of ``to_embed`` texts)."""

    files_total: int
    files_done: int = 0
    current: str | None = None
    chunks_written: int = 0
    embedded: int = 0
    to_embed: int = 0
