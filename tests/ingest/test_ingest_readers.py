"""Readers on the real corpus (PDF pages, DOCX headings and tables, XLSX sheets) and on small Markdown,
HTML and text files: what text comes out, under which heading path, on which page."""

from __future__ import annotations

from pathlib import Path

from ingest_helpers import (
    AQUAVOLT_XLSX,
    GLENVIEW_PDF,
    GREENLINE_DOCX,
    HARBOR_XLSX,
    HYDROGEN_PDF,
    TERM_SHEET_DOCX,
    contains_words,
)

from rem_db.ingest import iter_chunks
from rem_db.ingest.detect import detect
from rem_db.ingest.readers import read_blocks
from rem_db.ingest.readers.pdf import reflow


def blocks(path: Path) -> tuple[list, dict]:
    info: dict = {}
    return list(read_blocks(path, detect(path), info)), info


# -- PDF ---------------------------------------------------------------------------------------------
def test_pdf_chunks_keep_their_page_numbers() -> None:
    from pypdf import PdfReader

    pages = [p.extract_text(extraction_mode="layout") for p in PdfReader(HYDROGEN_PDF).pages]
    chunks = list(iter_chunks(HYDROGEN_PDF))
    assert len(pages) == 3
    assert chunks[0].page_start == 1 and chunks[-1].page_end == 3
    starts = [c.page_start for c in chunks]
    assert starts == sorted(starts)
    for chunk in chunks:
        assert 1 <= chunk.page_start <= chunk.page_end <= 3
        assert contains_words(" ".join(pages[chunk.page_start - 1:chunk.page_end]), chunk.text)
    # every page is covered by some chunk
    assert {p for c in chunks for p in range(c.page_start, c.page_end + 1)} == {1, 2, 3}


def test_pdf_text_is_running_text_not_one_word_per_line() -> None:
    found, info = blocks(GLENVIEW_PDF)
    assert info["pages"] == 1 and info["title"] == "1 - Glenview Industrial Warehouse"
    text = "\n".join(b.text for b in found)
    assert "Just ran through the Glenview model again." in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert sum(len(line.split()) for line in lines) / len(lines) > 5
    assert all(b.page == 1 for b in found)


def test_plain_mode_one_word_per_line_text_is_reflowed() -> None:
    from pypdf import PdfReader

    plain = PdfReader(GLENVIEW_PDF).pages[0].extract_text()
    assert sum(1 for line in plain.splitlines() if len(line.split()) <= 1) > 100  # the quirk being fixed
    flowed = reflow(plain)
    assert "Just ran through the Glenview model again." in flowed
    assert reflow("A normal line of text.\nAnother one here.") == "A normal line of text.\nAnother one here."


# -- DOCX --------------------------------------------------------------------------------------------
def test_docx_headings_make_the_heading_path() -> None:
    chunks = list(iter_chunks(TERM_SHEET_DOCX))
    by_text = {c.text: c for c in chunks}
    uptime = next(c for c in chunks if "Uptime target ≥ 96 %" in c.text)
    assert uptime.path == ("Strategic Partnership Term Sheet", "4 Operations & Maintenance")
    assert uptime.text.startswith("4 Operations & Maintenance\n\n")
    assert chunks[0].path == ("Strategic Partnership Term Sheet",)
    assert all(c.page_start is None for c in by_text.values())
    assert {c.path[-1] for c in chunks} >= {"1 Purpose", "2 Structure", "3 Commercial Terms", "9 Next Steps"}


def test_docx_tables_keep_rows_with_their_header_labels() -> None:
    found, info = blocks(GREENLINE_DOCX)
    assert info["tables"] == 1
    texts = [b.text for b in found]
    assert "Metric | Value | Comment" in texts
    assert "Metric: Capacity | Value: 54 MW | Comment: 10 turbines, Iowa 2020 COD" in texts
    row = texts.index("Metric: Capacity | Value: 54 MW | Comment: 10 turbines, Iowa 2020 COD")
    assert found[row].sep == "\n"  # rows of one table are joined line by line inside a chunk
    chunk = next(iter_chunks(GREENLINE_DOCX))
    assert "Metric | Value | Comment\nMetric: Capacity | Value: 54 MW" in chunk.text


# -- XLSX --------------------------------------------------------------------------------------------
def test_xlsx_sheet_is_a_section_of_rows() -> None:
    found, info = blocks(HARBOR_XLSX)
    assert info["sheets"] == ["Sheet1"]
    assert found[0].heading and found[0].text == "Sheet: Sheet1" and found[0].path == ("Sheet1",)
    assert found[1].text.startswith("Row | Year 0 | Year 1")
    assert found[2].text.startswith("Row: Acquisition - Purchase Price | Year 0: 9200000 | Year 1: -")
    # the sheet heading and header row sit under the sheet; the rows under it also carry its columns
    assert all(b.path == ("Sheet1",) for b in found[:2])
    assert all(b.path == ("Sheet1", "columns: Row, Year 0, Year 1, …, Year 8, Year 9") for b in found[2:])
    chunks = list(iter_chunks(HARBOR_XLSX))
    assert all(c.path[0] == "Sheet1" for c in chunks)
    assert any("Row: Net Operating Income (NOI) | Year 0: 236000" in c.text for c in chunks)


def test_xlsx_blank_rows_separate_tables_with_their_own_header() -> None:
    texts = [b.text for b in blocks(AQUAVOLT_XLSX)[0]]
    assert any(t.startswith("Category: Engineering & Design | M1: 9000") for t in texts)
    assert any(t.startswith("Category: Residential Leases | M1: 0") for t in texts)
    assert "M=month" in texts  # a note above the first table, kept as a plain row


def test_xlsx_several_sheets_never_share_a_chunk(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "Revenue"
    first.append(["Quarter", "Amount"])
    for n in range(60):
        first.append([f"Q{n}", n * 1000])
    book.create_sheet("Empty")
    costs = book.create_sheet("Costs")
    costs.append(["Item", "Cost"])
    costs.append(["Servers", 12.5])
    path = tmp_path / "book.xlsx"
    book.save(path)
    assert blocks(path)[1]["sheets"] == ["Revenue", "Costs"]  # the empty sheet has no section
    chunks = list(iter_chunks(path))
    assert {c.path[:1] for c in chunks} == {("Revenue",), ("Costs",)}
    assert chunks[-1].path == ("Costs", "columns: Item, Cost") and "Item: Servers | Cost: 12.5" in chunks[-1].text
    assert all("Servers" not in c.text for c in chunks if c.path[0] == "Revenue")


# -- Markdown, HTML, text -----------------------------------------------------------------------------
def test_markdown_headings_code_and_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("---\ntitle: \"Plant Guide\"\nauthor: me\n---\n# Ferns\n\nFerns like shade.\n\n"
                    "## Watering\n\nKeep the soil moist.\n\n```python\n# not a heading\nwater(fern)\n```\n\n"
                    "Cacti\n=====\n\nCacti like sun.\n\n- one\n- two\n", encoding="utf-8")
    found, info = blocks(path)
    assert info["title"] == "Plant Guide"
    assert [(b.text, b.path, b.heading) for b in found] == [
        ("Ferns", ("Ferns",), True),
        ("Ferns like shade.", ("Ferns",), False),
        ("Watering", ("Ferns", "Watering"), True),
        ("Keep the soil moist.", ("Ferns", "Watering"), False),
        ("# not a heading\nwater(fern)", ("Ferns", "Watering"), False),
        ("Cacti", ("Cacti",), True),
        ("Cacti like sun.", ("Cacti",), False),
        ("- one\n- two", ("Cacti",), False),
    ]
    assert detect(path).content_type == "text/markdown"


def test_html_headings_paragraphs_tables_and_no_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<!doctype html><html><head><title>Quarterly\n report</title><style>p {color: red}</style>"
                    "<script>var secret = 1;</script></head><body><h1>Results</h1><p>Revenue   grew\nby 9 %."
                    "<br>Margins fell.</p><h2>Table</h2><table><tr><th>Metric</th><th>Value</th></tr>"
                    "<tr><td>NOI</td><td>770 k</td></tr></table><h1>Outlook</h1><div>Stable &amp; calm.</div>"
                    "</body></html>", encoding="utf-8")
    found, info = blocks(path)
    assert info["title"] == "Quarterly report"
    assert [(b.text, b.path) for b in found] == [
        ("Results", ("Results",)),
        ("Revenue grew by 9 %.\nMargins fell.", ("Results",)),
        ("Table", ("Results", "Table")),
        ("Metric | Value", ("Results", "Table")),
        ("NOI | 770 k", ("Results", "Table")),
        ("Outlook", ("Outlook",)),
        ("Stable & calm.", ("Outlook",)),
    ]
    assert "secret" not in " ".join(b.text for b in found)


def test_text_paragraphs_and_detected_encoding(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    first = "Le château de la reine était très éloigné; nous avons mangé des crêpes à la crème fraîche."
    path.write_bytes(f"{first}\n\n\nSecond   paragraph\nwraps here.\n".encode("latin-1"))
    detected = detect(path)
    assert detected.kind == "text" and detected.encoding == "cp1252"
    found, _ = blocks(path)
    assert [b.text for b in found] == [first, "Second paragraph\nwraps here."]
