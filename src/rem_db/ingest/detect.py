"""File type detection from content first, then extension: what reader a file needs, its content type and,
for text, its encoding (UTF-8, a byte-order mark, or detected with charset-normalizer).

Kinds, extensions, content types and signatures come from the reader registry
(:mod:`rem_db.ingest.readers.registry`), where each reader module declares what it reads.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .readers.registry import FileFormat, format_of, formats, kind_for_content_type

SNIFF_BYTES = 64 * 1024
DEFAULT_TEXT_KIND = "text"  # text that no extension or sniffed start names
_ZIP = b"PK\x03\x04"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "an executable"), (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"), (b"7z\xbc\xaf\x27\x1c", "a 7z archive"), (b"Rar!", "a RAR archive"),
    (b"RIFF", "a RIFF media file"), (b"OggS", "an Ogg media file"), (b"ID3", "an MP3 file"),
    (b"SQLite format 3\x00", "an SQLite database"), (b"\x00\x00\x01\x00", "an icon"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL_SHARE = 0.02  # more control characters than this in decoded text: binary data
_CLOSE = 0.05  # charset-normalizer chaos/coherence difference treated as a tie


class FileProblem(Exception):
    """Why a file is not ingested. ``failed``: a file of a supported type that cannot be read (corrupt,
    encrypted, undecodable); otherwise it is skipped (empty, unsupported type, no text)."""

    def __init__(self, reason: str, failed: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failed = failed


@dataclass(frozen=True, slots=True)
class Detected:
    """What a file is: ``kind`` (reader), ``content_type`` (MIME) and ``encoding`` (text kinds)."""

    kind: str
    encoding: str | None = None

    @property
    def content_type(self) -> str:
        """The kind's registered content type (MIME)."""
        return format_of(self.kind).content_type

    @property
    def is_records(self) -> bool:
        """Rows into a named table (JSON, JSONL, CSV, TSV) rather than a document."""
        return format_of(self.kind).records


def detect(path: Path) -> Detected:
    """Detect a file's type (raises :class:`FileProblem` for empty, unsupported and misnamed files)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        whole = len(head) < SNIFF_BYTES or not handle.read(1)
    ext = path.suffix.lower()
    if not head:
        raise FileProblem("empty file", failed=False)
    known = formats()
    by_ext = {e: f for f in known for e in f.extensions}
    signed = next((f for f in known if f.has_magic(head)), None)
    if signed is not None:
        return Detected(signed.kind)
    named = by_ext.get(ext)
    if head.startswith(_ZIP):
        return Detected(_zip_kind(path, ext, named, known))
    if head.startswith(_OLE):
        if named is not None and named.zip_part:
            raise FileProblem(f"password-protected (encrypted) {ext[1:].upper()} file: remove the password first")
        raise FileProblem("legacy Office file (.doc/.xls/.ppt): save it as .docx or .xlsx", failed=False)
    if named is not None and named.binary:
        what = "it is not a ZIP package" if named.zip_part else \
            f"it does not start with {(named.magic or b'').decode('latin-1')}"
        raise FileProblem(f"not a valid {named.kind.upper()} file ({what})")
    is_text_name = named is not None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise FileProblem(f"unsupported file type ({what})", failed=is_text_name)
    encoding = _encoding(head, whole, is_text_name)
    if named is not None:
        return Detected(named.kind, encoding)
    start = head[:512].decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n").lower()
    sniffed = next((f for f in known if not f.binary and f.sniff and start.startswith(f.sniff)), None)
    return Detected(sniffed.kind if sniffed is not None else DEFAULT_TEXT_KIND, encoding)


def _zip_kind(path: Path, ext: str, named: FileFormat | None, known: list[FileFormat]) -> str:
    """The kind of a ZIP package by its parts (a broken package named like a ZIP-based kind goes to that
    kind's reader, which says what is wrong with it)."""
    packaged = [f for f in known if f.zip_part]
    office = named is not None and named.zip_part is not None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        if office and named is not None:
            return named.kind
        raise FileProblem(f"corrupt ZIP archive ({exc})", failed=False) from None
    found = next((f for f in packaged if f.zip_part in names), None)
    if found is not None:
        return found.kind
    if office:
        raise FileProblem(f"not a valid {ext[1:].upper()} file (a ZIP archive without its document parts)")
    kinds = " nor ".join(f.kind.upper() for f in packaged)
    raise FileProblem(f"unsupported file type (a ZIP archive that is neither {kinds})", failed=False)


def _encoding(head: bytes, whole: bool, is_text_name: bool) -> str:
    """The text encoding of a file from its first bytes; binary data raises :class:`FileProblem`
    (``failed`` when the file is named as a text kind)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    nul = head.find(b"\x00")
    if nul >= 0:
        raise FileProblem(f"binary data (NUL byte at offset {nul}), not text", failed=is_text_name)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        text, encoding = _detected(head, exc, is_text_name)
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f\v\x1b")
    if text and controls / len(text) > _CONTROL_SHARE:
        raise FileProblem("binary data (control characters), not text", failed=is_text_name)
    return encoding


def _detected(head: bytes, error: UnicodeDecodeError, is_text_name: bool) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(head))
    if not matches or matches[0].encoding is None:
        raise FileProblem(f"not UTF-8 text (invalid byte at offset {error.start}) and no other encoding "
                          f"could be detected", failed=is_text_name)
    best = matches[0]
    # Western European text fits several single-byte code pages about equally; charset-normalizer then
    # picks any of them (cp1257, cp1250 …). Windows-1252 (a superset of Latin-1) is by far the likeliest.
    western = next((m for m in matches if m.encoding == "cp1252"), None)
    if western is not None and western.chaos <= best.chaos + _CLOSE and western.coherence >= best.coherence - _CLOSE:
        best = western
    encoding = codecs.lookup(best.encoding).name
    return head.decode(encoding, errors="replace"), encoding


def content_types() -> dict[str, str]:
    """kind -> content type of every registered format."""
    return {f.kind: f.content_type for f in formats()}


__all__ = ["DEFAULT_TEXT_KIND", "SNIFF_BYTES", "Detected", "FileProblem", "content_types", "detect",
           "kind_for_content_type"]
