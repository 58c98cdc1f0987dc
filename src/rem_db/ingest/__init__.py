"""Document ingest (SPEC §8): readers for text, Markdown, HTML, PDF, DOCX and XLSX, structure-following
chunking bounded in model tokens, records files (JSON, JSONL, CSV) into a named table, and the pipeline that
stores one ``documents`` row per file with its chunks. Entry point: ``Database.ingest`` / ``rem ingest``.
See docs/ingest.md."""

from .chunking import Chunk, ChunkSettings, chunk_blocks
from .pipeline import IngestOptions, Ingestor, iter_chunks
from .report import FileResult, IngestProgress, IngestReport

__all__ = ["Chunk", "ChunkSettings", "FileResult", "IngestOptions", "IngestProgress", "IngestReport", "Ingestor",
           "chunk_blocks", "iter_chunks"]
