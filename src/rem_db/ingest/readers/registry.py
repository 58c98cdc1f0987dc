"""File formats by kind: what each reader handles, declared by the reader module itself.

A reader is one module ending in one registration line, e.g. ::

    register_reader("pdf", read, content_type="application/pdf", extensions=(".pdf",), magic=b"%PDF-",
                    magic_window=1024)

Detection (:mod:`rem_db.ingest.detect`) asks this registry which kind a file's content or extension
means; the pipeline asks it for the kind's ``read`` function. Records formats (JSON, JSONL, CSV, TSV:
rows into a named table) register with ``read=None, records=True``. The reader modules shipped with REM DB
are listed in :data:`BUILTIN_READERS` and imported on the first lookup: reader modules import this one,
never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...registry import Registry
from ..blocks import Block

if TYPE_CHECKING:
    from ..detect import Detected

#: ``read(path, detected, info) -> blocks``; ``info`` collects document facts (pages, title …)
ReadFn = Callable[[Path, "Detected", dict[str, Any]], Iterator[Block]]

#: modules that register the built-in formats (imported on the first lookup)
BUILTIN_READERS = (*(f"rem_db.ingest.readers.{name}" for name in ("text", "markdown", "html", "pdf", "docx", "xlsx")),
                   "rem_db.ingest.records")  # JSON, JSONL, CSV, TSV: rows, read by ingest/records.py


@dataclass(frozen=True, slots=True)
class FileFormat:
    """One registered kind of file.

    ``binary``: never decoded as text; a file named with one of its extensions must carry its signature.
    ``magic`` (within the first ``magic_window`` bytes; 0: at the start) and ``zip_part`` (a ZIP package
    holding that part) recognise the kind from content, whatever the file is called. ``sniff``: prefixes
    of the lower-cased start of an unnamed text file that mean this kind. ``records``: rows into a named
    table rather than a document (no ``read``)."""

    kind: str
    read: ReadFn | None
    content_type: str
    extensions: tuple[str, ...]
    binary: bool = False
    magic: bytes | None = None
    magic_window: int = 0
    zip_part: str | None = None
    sniff: tuple[str, ...] = ()
    records: bool = False

    def has_magic(self, head: bytes) -> bool:
        """``head`` (a file's first bytes) carries this format's signature."""
        if self.magic is None:
            return False
        return self.magic in head[:self.magic_window] if self.magic_window else head.startswith(self.magic)


_registry: Registry[FileFormat] = Registry("file kind", BUILTIN_READERS)


def register_reader(kind: str, read: ReadFn | None, *, content_type: str, extensions: Iterable[str],
                    binary: bool = False, magic: bytes | None = None, magic_window: int = 0,
                    zip_part: str | None = None, sniff: Iterable[str] = (), records: bool = False) -> None:
    """Register the reader of ``kind`` (see :class:`FileFormat` for the arguments). A kind or an extension
    that another registration already holds is a ``ValueError``."""
    fmt = FileFormat(kind, read, content_type, tuple(e.lower() for e in extensions), binary, magic, magic_window,
                     zip_part, tuple(s.lower() for s in sniff), records)
    if not kind or not fmt.extensions or any(not e.startswith(".") for e in fmt.extensions):
        raise ValueError(f"reader {kind!r}: a kind and extensions starting with '.' are needed")
    if (read is None) != records:
        raise ValueError(f"reader {kind!r}: a document kind needs read(); a records kind has none")

    def no_clash(others: Mapping[str, FileFormat]) -> None:
        taken = {e: f.kind for f in others.values() for e in f.extensions}
        clashes = sorted(e for e in fmt.extensions if e in taken)
        if clashes:
            raise ValueError(f"reader {kind!r}: extensions {clashes} are already read as {taken[clashes[0]]!r}")

    _registry.add(kind, fmt, check=no_clash)


def unregister_reader(kind: str) -> None:
    """Forget a registered kind (a no-op for an unknown one)."""
    _registry.remove(kind)


def formats() -> list[FileFormat]:
    """Every registered format, built-in ones included, in registration order."""
    return _registry.entries()


def format_of(kind: str) -> FileFormat:
    """The registered format of ``kind`` (``KeyError`` for an unknown kind)."""
    fmt = _registry.get(kind)
    if fmt is None:
        raise KeyError(kind)
    return fmt


def kind_for_extension(ext: str) -> str | None:
    """The kind a file extension (``.md``) names, or None."""
    ext = ext.lower()
    return next((f.kind for f in formats() if ext in f.extensions), None)


def kind_for_content_type(content_type: str) -> str | None:
    """The kind a content type (``text/markdown``) names, or None."""
    return next((f.kind for f in formats() if f.content_type == content_type), None)

