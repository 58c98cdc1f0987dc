"""Readers: one module per document format, each ``read(path, detected, info) -> Iterator[Block]``.

``info`` collects facts about the document (``pages``, ``title``, ``sheets`` …) for its metadata. Readers
raise :class:`~rem_db.ingest.detect.FileProblem` for files they cannot read; they import their parsing
library on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

from ..blocks import Block
from ..detect import Detected

_MODULES = {"text": "text", "markdown": "markdown", "html": "html", "pdf": "pdf", "docx": "docx", "xlsx": "xlsx"}


def reader_for(detected: Detected) -> Callable[[Path, Detected, dict[str, Any]], Iterator[Block]]:
    """The ``read`` function for a detected document kind (records kinds have none: see ``records``)."""
    return import_module(f".{_MODULES[detected.kind]}", __name__).read


def read_blocks(path: Path, detected: Detected, info: dict[str, Any]) -> Iterator[Block]:
    """The blocks of a document file."""
    return reader_for(detected)(path, detected, info)
