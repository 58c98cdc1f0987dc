"""Context in every chunk (issue 19 parts 1-3): each chunk's embedded and BM25-indexed text starts with its
document's title and heading path (the chunk's ``name``) while ``content`` stays the document's text;
spreadsheet rows keep their labels; a search for a document's title or file name finds it first."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import HARBOR_XLSX, TERM_SHEET_DOCX, chunks_of

from rem_db import Database
from rem_db.ingest import pipeline
from rem_db.ingest import tokens as model_tokens
from rem_db.ingest.context import document_title, usable_title


def _doc_id(path: Path) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"documents:{path.as_uri()}"))


def _chunks(db: Database, path: Path) -> list[dict[str, Any]]:
    doc = db.lookup(path.as_uri())
    assert doc, path
    return chunks_of(db, doc[0]["id"])


def test_every_chunk_carries_title_and_heading_with_clean_content(corpus_db: tuple[Database, object]) -> None:
    db, _ = corpus_db
    chunks = _chunks(db, TERM_SHEET_DOCX)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk["name"].startswith("Strategic Partnership Term Sheet")
        assert chunk["metadata"]["title"] == "Strategic Partnership Term Sheet"
        assert chunk["metadata"]["file_name"] == TERM_SHEET_DOCX.name
        embedded = db.embedded_text(chunk)
        assert embedded == f"{chunk['name']}\n\n{chunk['content']}"  # header first, then the text itself
        assert "›" not in chunk["content"]  # the header is not copied into the stored text
    commercial = next(c for c in chunks if c["metadata"]["heading_path"][-1:] == ["3 Commercial Terms"])
    assert commercial["name"] == "Strategic Partnership Term Sheet › 3 Commercial Terms"
    # the title is in the BM25 index of a chunk whose content never says it
    later = [c for c in chunks if "Strategic Partnership" not in c["content"]]
    assert later
    hits = db.search("Strategic Partnership", top_k=100, hybrid=True)
    assert {c["id"] for c in later} <= {h["id"] for h, _ in hits}


def test_generic_property_titles_give_way_to_the_first_heading(corpus_db: tuple[Database, object]) -> None:
    db, _ = corpus_db
    docx = db.lookup((TERM_SHEET_DOCX.parent / "doc-039-atlas-fund-iii-recapitalization.docx").as_uri())[0]
    assert docx["metadata"]["title"] == "Atlas Fund III Recapitalization – Private Equity Investment Summary"
    pdf = db.lookup((TERM_SHEET_DOCX.parent / "doc-061-market-brief-hydrogen-storage-economics-2025.pdf").as_uri())[0]
    assert pdf["metadata"]["title"] == "Market Brief: Hydrogen Storage Economics 2025"  # "61 - " dropped


@pytest.mark.parametrize(("meta", "heading", "file_name", "title"), [
    ("Word Document", "Board Memo", "x.docx", "Board Memo"),
    ("Microsoft Word - memo.docx", None, "doc-007-quarterly-memo.docx", "quarterly memo"),
    ("Untitled", None, "plan.md", "plan"),
    ("", "", "atlas_fund_v2.xlsx", "atlas fund v2"),
    ("61 - Market Brief: Hydrogen", None, "doc-061-x.pdf", "Market Brief: Hydrogen"),
    ("Annual Report 2024", "Intro", "r.pdf", "Annual Report 2024"),
])
def test_document_title_rules(meta: str, heading: str | None, file_name: str, title: str) -> None:
    assert document_title(meta, heading, file_name) == title


def test_generic_titles_are_not_titles() -> None:
    for generic in ("Word Document", "Sheet1", "Document1", "untitled", "Microsoft Excel - book.xlsx", "report.pdf"):
        assert usable_title(generic) is None, generic


def test_spreadsheet_rows_keep_labels_and_sheet_name(corpus_db: tuple[Database, object]) -> None:
    db, _ = corpus_db
    chunks = _chunks(db, HARBOR_XLSX)
    assert len(chunks) > 2
    for chunk in chunks:
        # the generic sheet name stays out of the name; rows under the header carry their columns as context
        assert chunk["name"] in ("harbor point hotel",
                                 "harbor point hotel › columns: Row, Year 0, Year 1, …, Year 8, Year 9")
        assert chunk["metadata"]["sheet"] == "Sheet1"
        lines = [line for line in chunk["content"].split("\n") if line and not line.startswith("Sheet: ")]
        # every row says what its numbers are: no chunk starts with the label-less tail of the row before
        assert all(line.startswith(("Row: ", "Row | ")) for line in lines), chunk["content"][:200]
    assert any("Row: Acquisition - Purchase Price | Year 0: 9200000" in c["content"] for c in chunks)
    assert any("columns: Row, Year 0" in c["name"] for c in chunks)


def test_header_and_text_fit_the_model(tmp_path: Path) -> None:
    title = "A rather long document title about the quarterly review of regional logistics operations"
    body = "\n\n".join(f"Paragraph {n}: " + "the warehouse throughput figures rose steadily " * 12 for n in range(8))
    path = tmp_path / "review.md"
    path.write_text(f"# {title}\n\n## Deep section heading on throughput\n\n{body}\n", encoding="utf-8")
    with Database(tmp_path / "db") as db:
        db.ingest(path)
        chunks = _chunks(db, path)
        assert len(chunks) > 2
        for chunk in chunks:
            assert chunk["name"] == f"{title} › Deep section heading on throughput" or chunk["chunk_ordinal"] == 0
            assert model_tokens.count(db.embedded_text(chunk)) <= 256


def test_new_ingest_format_rechunks_an_unchanged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Field notes\n\nThe pump XJ-9000 was serviced in March.\n", encoding="utf-8")
    with Database(tmp_path / "db") as db:
        with monkeypatch.context() as patch:  # a database ingested by the previous version
            patch.setattr(pipeline, "INGEST_FORMAT", pipeline.INGEST_FORMAT - 1)
            assert db.ingest(path).files[0].status == "added"
            assert db.ingest(path).files[0].status == "unchanged"
        doc = db.lookup(path.as_uri())[0]
        db.update(chunks_of(db, doc["id"])[0]["id"], {"name": None})  # as the old version stored it
        assert db.ingest(path).files[0].status == "updated"
        assert chunks_of(db, doc["id"])[0]["name"] == "Field notes"
        assert db.get(doc["id"])["metadata"]["ingest"]["format"] == pipeline.INGEST_FORMAT
        assert db.ingest(path).files[0].status == "unchanged"


@pytest.mark.parametrize("query", ["doc-022-harbor-point-hotel.xlsx", "DOC-022-HARBOR-POINT-HOTEL",
                                   "Doc 022 Harbor Point Hotel"])
def test_a_file_name_query_ranks_its_spreadsheet_first(corpus_db: tuple[Database, object], query: str) -> None:
    db, _ = corpus_db
    doc = db.lookup(HARBOR_XLSX.as_uri())[0]
    hits = db.search(query, top_k=5, hybrid=True)
    assert hits[0][0]["document_id"] == doc["id"]


def test_a_name_two_files_share_ranks_both_first(corpus_db: tuple[Database, object]) -> None:
    db, _ = corpus_db
    docx = db.lookup((HARBOR_XLSX.parent / "doc-003-harbor-point-hotel.docx").as_uri())[0]
    xlsx = db.lookup(HARBOR_XLSX.as_uri())[0]
    hits = db.search("Harbor Point Hotel", top_k=30, hybrid=True)
    named = docx["chunk_count"] + xlsx["chunk_count"]
    assert {h["document_id"] for h, _ in hits[:named]} == {docx["id"], xlsx["id"]}
    assert {h["document_id"] for h, _ in hits[named:]}.isdisjoint({docx["id"], xlsx["id"]})


@pytest.mark.parametrize("query", ["strategic partnership term sheet", "MARKET BRIEF: HYDROGEN STORAGE ECONOMICS 2025"])
def test_a_title_query_ranks_its_document_first(corpus_db: tuple[Database, object], query: str) -> None:
    db, _ = corpus_db
    hits = db.search(query, top_k=10, hybrid=True)
    names = {db.get(h["document_id"])["name"] for h, _ in hits[:1]}
    assert len(names) == 1
    (name,) = names
    assert name.replace("-", " ").lower().endswith(f"{query.lower().replace(':', '')}.pdf") or \
        name == TERM_SHEET_DOCX.name
