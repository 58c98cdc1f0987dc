"""Readers: one module per document format, each ``read(path, detected, info) -> Iterator[Block]`` and one
:func:`~.registry.register_reader` line declaring its kind, content type, extensions and signature.

``info`` collects facts about the document (``pages``, ``title``, ``sheets`` …) for its metadata. Readers
raise :class:`~rem_db.ingest.detect.FileProblem` for files they cannot read; they import their parsing
library on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..blocks import Block
from .registry import ReadFn, format_of, register_reader

if TYPE_CHECKING:
    from ..detect import Detected

__all__ = ["read_blocks", "reader_for", "register_reader"]


def reader_for(detected: Detected) -> ReadFn:
    """The ``read`` function for a detected document kind (records kinds have none: see ``records``)."""
    read = format_of(detected.kind).read
    if read is None:
        raise KeyError(f"{detected.kind!r} files are records, not documents: read them with ingest.records")
    return read


def read_blocks(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """The blocks of a document file."""
    return reader_for(detected)(path, detected, info)
