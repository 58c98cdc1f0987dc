"""File type detection from content first, then extension: what reader a file needs, its content type and,
for text, its encoding (UTF-8, a byte-order mark, or detected with charset-normalizer)."""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 64 * 1024

#: kind -> content type
CONTENT_TYPES = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
TEXT_KINDS = frozenset({"text", "markdown", "html", "json", "jsonl", "csv", "tsv"})
RECORD_KINDS = frozenset({"json", "jsonl", "csv", "tsv"})
BINARY_KINDS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}
TEXT_EXTENSIONS = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
    ".txt": "text", ".text": "text", ".rst": "text", ".log": "text",
}
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
        return CONTENT_TYPES[self.kind]

    @property
    def is_records(self) -> bool:
        return self.kind in RECORD_KINDS


def detect(path: Path) -> Detected:
    """Detect a file's type (raises :class:`FileProblem` for empty, unsupported and misnamed files)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        whole = len(head) < SNIFF_BYTES or not handle.read(1)
    ext = path.suffix.lower()
    if not head:
        raise FileProblem("empty file", failed=False)
    if b"%PDF-" in head[:1024]:
        return Detected("pdf")
    if head.startswith(b"PK\x03\x04"):
        return Detected(_zip_kind(path, ext))
    if head.startswith(_OLE):
        if ext in (".docx", ".xlsx"):
            raise FileProblem(f"password-protected (encrypted) {ext[1:].upper()} file: remove the password first")
        raise FileProblem("legacy Office file (.doc/.xls/.ppt): save it as .docx or .xlsx", failed=False)
    named = BINARY_KINDS.get(ext)
    if named is not None:
        what = {"pdf": "it does not start with %PDF-", "docx": "it is not a ZIP package",
                "xlsx": "it is not a ZIP package"}[named]
        raise FileProblem(f"not a valid {named.upper()} file ({what})")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise FileProblem(f"unsupported file type ({what})", failed=ext in TEXT_EXTENSIONS)
    encoding = _encoding(head, whole, ext)
    kind = TEXT_EXTENSIONS.get(ext)
    if kind is None:
        start = head[:512].decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n").lower()
        kind = "html" if start.startswith(("<!doctype html", "<html")) else "text"
    return Detected(kind, encoding)


def _zip_kind(path: Path, ext: str) -> str:
    """DOCX or XLSX by the package's parts (a broken package named .docx/.xlsx goes to its reader, which
    says what is wrong with it)."""
    office = ext in (".docx", ".xlsx")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        if office:
            return ext[1:]
        raise FileProblem(f"corrupt ZIP archive ({exc})", failed=False) from None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if office:
        raise FileProblem(f"not a valid {ext[1:].upper()} file (a ZIP archive without its document parts)")
    raise FileProblem("unsupported file type (a ZIP archive that is neither DOCX nor XLSX)", failed=False)


def _encoding(head: bytes, whole: bool, ext: str) -> str:
    """The text encoding of a file from its first bytes; binary data raises :class:`FileProblem`."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    is_text_name = ext in TEXT_EXTENSIONS
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
