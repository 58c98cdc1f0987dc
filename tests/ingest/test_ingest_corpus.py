"""The real corpus (6 PDF, 4 DOCX, 2 XLSX business documents) ingested once: every document stored
consistently, and a question about a fact stated in one document finds a chunk of it in the top 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import CORPUS, assert_consistent

FACTS = {  # document -> a question answered by a fact stated in it
    "doc-001-glenview-industrial-warehouse.pdf": "What debt service coverage ratio does the Glenview model show?",
    "doc-003-harbor-point-hotel.docx": "58-room hotel in Cape May asking for a bridge refi",
    "doc-010-greenline-wind-phase-i.docx": "How many turbines does the Greenline Wind project have?",
    "doc-011-ironwood-office-park.pdf": "bridge loan payoff for a two-building office park in Omaha",
    "doc-014-oakview-senior-living.pdf": "72-bed assisted living facility in Birmingham",
    "doc-022-harbor-point-hotel.xlsx": "Harbor Point Hotel net operating income by year",
    "doc-037-ridgeway-data-center-campus.pdf": "colocation data center campus in the Denver Tech Corridor",
    "doc-039-atlas-fund-iii-recapitalization.docx": "recapitalization of Fund III by Atlas Capital Partners",
    "doc-052-aquavolt-energy-solutions.xlsx": "total monthly expense over 24 months",
    "doc-061-market-brief-hydrogen-storage-economics-2025.pdf": "average cost overruns of hydrogen storage projects",
    "doc-066-board-memo-heliogrid-energy-inc-q2-2025-update.pdf": "How many months of cash runway does HelioGrid have?",
    "doc-072-strategic-partnership-term-sheet.docx": "What is the penalty per day when a charger is down?",
}


def test_every_corpus_document_is_stored_with_its_chunks(corpus_db) -> None:
    db, report = corpus_db
    assert sorted(Path(f.path).name for f in report.files) == sorted(FACTS)
    assert [f.status for f in report.files] == ["added"] * 12
    kinds = {}
    for result in report.files:
        chunks = assert_consistent(db, result.document_id)
        assert len(chunks) == result.chunks >= 1
        kinds[Path(result.path).suffix] = chunks
        assert all(c["metadata"]["tokens"] <= 256 for c in chunks)
    assert all(c["metadata"]["page_start"] >= 1 for c in kinds[".pdf"])
    assert all(c["metadata"]["heading_path"] for c in kinds[".docx"])
    assert all(c["metadata"]["heading_path"][0] == "Sheet1" for c in kinds[".xlsx"])
    assert db.count("documents") == 12 and db.count("resources") == report.chunks


@pytest.mark.parametrize("name", sorted(FACTS))
def test_a_fact_finds_its_document_in_the_top_3(corpus_db, name: str) -> None:
    db, _ = corpus_db
    hits = db.search(FACTS[name], schema="resources", top_k=3)
    found = [entity["uri"].rsplit("/", 1)[-1].split("#")[0] for entity, _ in hits]
    assert name in found, (FACTS[name], found)
    assert hits[found.index(name)][0]["uri"].startswith((CORPUS / name).as_uri() + "#chunk-")


def test_re_ingesting_the_corpus_changes_nothing(corpus_db) -> None:
    db, report = corpus_db
    seq = db.stats()["wal_seq"]
    again = db.ingest(CORPUS, glob="doc-*")
    assert [f.status for f in again.files] == ["unchanged"] * 12
    assert [f.chunks for f in again.files] == [f.chunks for f in report.files]
    assert db.stats()["wal_seq"] == seq
