"""Bad input: empty files, 0-page and encrypted PDFs, corrupt DOCX, binary bytes with a text extension,
non-UTF-8 text, a bad byte deep in a large file, 50 MB files (streamed, bounded memory), and a directory
that goes on past all of them."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from ingest_helpers import GLENVIEW_PDF, GREENLINE_DOCX, assert_consistent, write_pdf_pages

from rem_db import Database, IngestError
from rem_db.ingest import iter_chunks
from rem_db.ingest.detect import SNIFF_BYTES, detect
from rem_db.ingest.pipeline import file_digest
from rem_db.ingest.readers import read_blocks


def bad_files(folder: Path) -> dict[str, tuple[str, str]]:
    """Bad files written into ``folder``: name -> (expected status, words of the reason)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("\n\n   \n\t\n")
    write_pdf_pages(GLENVIEW_PDF, folder / "no-pages.pdf", pages=0)
    write_pdf_pages(GLENVIEW_PDF, folder / "locked.pdf", pages=1, password="s3cret")
    (folder / "random.docx").write_bytes(bytes(range(256)) * 8)
    truncated = GREENLINE_DOCX.read_bytes()[:3000]  # a ZIP signature, then nothing readable
    (folder / "truncated.docx").write_bytes(truncated)
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 300 + b"text")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    (folder / "fake.pdf").write_text("this is not a pdf at all")
    return {
        "empty.txt": ("skipped", "empty file"),
        "blank.md": ("skipped", "no text to ingest"),
        "no-pages.pdf": ("skipped", "PDF has no pages"),
        "locked.pdf": ("failed", "encrypted PDF: a password is needed"),
        "random.docx": ("failed", "not a valid DOCX file"),
        "truncated.docx": ("failed", "corrupt DOCX"),
        "binary.txt": ("failed", "binary data (NUL byte at offset 0)"),
        "image.png": ("skipped", "unsupported file type (a PNG image)"),
        "fake.pdf": ("failed", "not a valid PDF file"),
    }


def test_a_directory_goes_on_past_every_bad_file(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    expected = bad_files(folder)
    (folder / "good.md").write_text("# Good\n\nThe only readable document in this folder.\n")
    report = db.ingest(folder)
    got = {Path(f.path).name: f for f in report.files}
    assert set(got) == {*expected, "good.md"}
    for name, (status, reason) in expected.items():
        assert got[name].status == status, (name, got[name])
        assert reason in got[name].reason, (name, got[name].reason)
    assert got["good.md"].status == "added"
    assert len(report.failed) == 5 and len(report.skipped) == 4
    assert db.count("documents") == 1
    assert_consistent(db, got["good.md"].document_id)


@pytest.mark.parametrize(("name", "message"), [
    ("empty.txt", "empty.txt: empty file"),
    ("locked.pdf", "locked.pdf: encrypted PDF: a password is needed to read it"),
    ("truncated.docx", "truncated.docx: corrupt DOCX"),
    ("binary.txt", "binary.txt: binary data (NUL byte at offset 0), not text"),
])
def test_a_single_bad_file_raises_an_ingest_error_naming_it(db: Database, tmp_path: Path, name: str,
                                                             message: str) -> None:
    bad_files(tmp_path)
    with pytest.raises(IngestError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        db.ingest(tmp_path / name)
    assert caught.value.path == str(tmp_path / name)
    assert db.count("documents") == 0 and db.count("resources") == 0


def test_a_pdf_encrypted_with_an_empty_user_password_is_read(db: Database, tmp_path: Path) -> None:
    path = write_pdf_pages(GLENVIEW_PDF, tmp_path / "owner-only.pdf", pages=1, password="", owner="owner")
    result = db.ingest(path).files[0]
    assert result.status == "added"
    chunks = assert_consistent(db, result.document_id)
    assert "Just ran through the Glenview model again." in chunks[0]["content"]
    assert chunks[0]["metadata"]["page_start"] == 1


def test_a_corrupt_entry_inside_a_docx_package_is_reported(db: Database, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(GREENLINE_DOCX) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<w:document>broken" if item.filename == "word/document.xml" else data)
    path = tmp_path / "broken.docx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(IngestError, match=r"broken\.docx: corrupt DOCX"):
        db.ingest(path)


def test_latin_1_text_is_detected_and_stored_as_unicode(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "menu.txt"
    text = "Le menu du château : crème brûlée, crêpes et café. Très apprécié des élèves étrangers."
    path.write_bytes(text.encode("latin-1"))
    result = db.ingest(path).files[0]
    doc = db.get(result.document_id)
    assert doc["metadata"]["encoding"] == "cp1252"
    assert assert_consistent(db, result.document_id)[0]["content"] == text


def test_an_invalid_byte_deep_in_a_large_text_file_is_found_before_writing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    line = "all good here, plain ascii text on every line\n"
    good = line * (SNIFF_BYTES // len(line) * 3)
    path.write_bytes(good.encode() + b"broken \xff byte\n" + line.encode())
    assert detect(path).encoding == "utf-8"  # the first 64 KiB are fine
    with pytest.raises(IngestError, match=f"not valid utf-8 text \\(invalid byte at offset {len(good) + 7}\\)"):
        db.ingest(path)
    assert db.count("resources") == 0


def test_a_50_mb_file_is_read_as_a_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    section = "## Section {n}\n\n" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30 + "\n\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# Huge\n\n" + "one line without breaks " * 10_000 + "\n\n")  # 240 KB on one line
        n = 0
        while handle.tell() < 50 * 1024 * 1024:
            handle.write("".join(section.format(n=n + k) for k in range(100)))
            n += 100
    assert path.stat().st_size > 50 * 1024 * 1024
    tracemalloc.start()
    try:
        digest, size = file_digest(path, detect(path))  # hashes and decode-checks all 50 MB
        chunks = iter(iter_chunks(path))
        first = next(chunks)  # the first chunks come without reading the rest of the file
        later = [next(chunks) for _ in range(300)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == path.stat().st_size and digest.startswith("sha256:")
    assert first.path == ("Huge",) and first.text.startswith("Huge\n\none line without breaks")
    assert ("Huge", "Section 0") in {c.path for c in later} and max(c.tokens for c in later) <= 256
    assert peak < 10 * 1024 * 1024  # a few MB, not the 50 MB of the file


def test_a_line_without_breaks_is_cut_between_words(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    words = [f"word{n}" for n in range(400_000)]  # ~4 MB, no line break at all
    path.write_text(" ".join(words), encoding="utf-8")
    found = list(read_blocks(path, detect(path), {}))
    assert len(found) > 40 and max(len(b.text) for b in found) <= 64 * 1024
    assert [w for b in found for w in b.text.split()] == words  # no word cut in two


def test_content_decides_the_type_over_the_extension(tmp_path: Path) -> None:
    from ingest_helpers import HARBOR_XLSX

    from rem_db.ingest.detect import FileProblem

    renamed = tmp_path / "budget.docx"
    renamed.write_bytes(HARBOR_XLSX.read_bytes())
    assert detect(renamed).kind == "xlsx"  # a workbook named .docx is read as a workbook
    pdf_as_text = tmp_path / "memo.txt"
    pdf_as_text.write_bytes(GLENVIEW_PDF.read_bytes())
    assert detect(pdf_as_text).kind == "pdf"
    archive = tmp_path / "photos.docx"
    with zipfile.ZipFile(archive, "w") as target:
        target.writestr("a.txt", "not a word document")
    with pytest.raises(FileProblem, match="not a valid DOCX file") as caught:
        detect(archive)
    assert caught.value.failed
    readme = tmp_path / "README"
    readme.write_text("<!DOCTYPE html><html><body><p>Hi</p></body></html>")
    assert detect(readme).kind == "html"
