"""Helpers of the ingest tests (imported as ``ingest_helpers``): the real corpus, small file makers and
checks that a database holds no orphan chunks, vectors or edges."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from rem_db import Database

CORPUS = Path("/work/shared/corpus")
GLENVIEW_PDF = CORPUS / "doc-001-glenview-industrial-warehouse.pdf"  # 1 page
HYDROGEN_PDF = CORPUS / "doc-061-market-brief-hydrogen-storage-economics-2025.pdf"  # 3 pages
HELIOGRID_PDF = CORPUS / "doc-066-board-memo-heliogrid-energy-inc-q2-2025-update.pdf"  # 3 pages
GREENLINE_DOCX = CORPUS / "doc-010-greenline-wind-phase-i.docx"  # a heading and an 8 x 3 table
TERM_SHEET_DOCX = CORPUS / "doc-072-strategic-partnership-term-sheet.docx"  # Heading 1/2 sections, 3 tables
HARBOR_XLSX = CORPUS / "doc-022-harbor-point-hotel.xlsx"  # one sheet, header row "Row | Year 0 …"
AQUAVOLT_XLSX = CORPUS / "doc-052-aquavolt-energy-solutions.xlsx"  # one sheet, two tables


def words(text: str) -> str:
    """Whitespace-normalised text (single spaces), for containment checks."""
    return " ".join(text.split())


def contains_words(haystack: str, needle: str) -> bool:
    """``needle``'s words appear in ``haystack`` as whole, consecutive words."""
    return f" {words(needle)} " in f" {words(haystack)} "


def chunks_of(db: Database, document_id: str, table: str = "resources") -> list[dict[str, Any]]:
    """The live chunk rows of a document, by ordinal."""
    rows = db.query(f"SELECT * FROM {table} WHERE document_id = ?", [document_id])
    return sorted(rows, key=lambda r: r["chunk_ordinal"])


def chunk_edges(db: Database, document_id: str) -> list[dict[str, Any]]:
    return db.edges(document_id, "out", "has_chunk")


def assert_consistent(db: Database, document_id: str, table: str = "resources") -> list[dict[str, Any]]:
    """The document's ``chunk_count``, its ``has_chunk`` edges and the chunk rows pointing at it agree
    exactly (no orphan chunk, no dangling edge), ordinals are 0..n-1, and every chunk has a vector.
    Returns the chunks."""
    doc = db.get(document_id)
    chunks = chunks_of(db, document_id, table)
    edges = chunk_edges(db, document_id)
    assert [c["chunk_ordinal"] for c in chunks] == list(range(doc["chunk_count"]))
    assert sorted(e["dst"] for e in edges) == sorted(c["id"] for c in chunks)
    assert all(e["properties"]["chunk_ordinal"] == db.get(e["dst"])["chunk_ordinal"] for e in edges)
    for chunk in chunks:
        assert chunk["uri"] == f"{doc['uri']}#chunk-{chunk['chunk_ordinal']:04d}"
        assert db.get(chunk["id"], include_embeddings=True)["embedding"] is not None
    return chunks


def all_chunk_ids(db: Database, table: str = "resources") -> set[str]:
    """Every row of the chunk table, soft-deleted ones included."""
    return {r["id"] for r in db.rows(table, include_deleted=True)}


def vector_hits(db: Database, text: str, table: str = "resources", top_k: int = 50) -> list[str]:
    """Ids the vector index returns for ``text`` (what a search can reach)."""
    return [e["id"] for e, _ in db.search(text, schema=table, top_k=top_k, include_deleted=True)]


def write_pdf_pages(source: Path, target: Path, pages: int = 0, password: str | None = None,
                    owner: str | None = None) -> Path:
    """A PDF of the first ``pages`` pages of ``source`` (0: an empty PDF), optionally encrypted."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    reader = PdfReader(source)
    for page in reader.pages[:pages]:
        writer.add_page(page)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=owner or password, algorithm="AES-256")
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def uuid_text(id16: bytes) -> str:
    return str(uuid.UUID(bytes=id16))
