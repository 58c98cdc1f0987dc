"""The document reader contract, run against every registered reader (SPEC §8).

Each registered document kind needs a sample below: a small real file of its format made by the test, the
words it must yield and the ``info`` facts it must fill. A kind registered without one fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import GLENVIEW_PDF, contains_words, write_pdf_pages

from rem_db.ingest.blocks import Block
from rem_db.ingest.detect import Detected, FileProblem, detect
from rem_db.ingest.readers import read_blocks
from rem_db.ingest.readers.registry import FileFormat, format_of, formats, kind_for_content_type

TEXT = "Wind turbines on the ridge.\n\nThe second paragraph mentions grid storage.\n"
BROKEN_UTF8 = b"Wind turbines \xff\xfe on the ridge.\n" * 3


@dataclass
class Sample:
    """``make(path)`` writes a small file of the format; ``corrupt(path)`` a broken one of the same format."""

    suffix: str
    make: Callable[[Path], object]
    words: list[str]
    info: dict[str, Any]
    corrupt: Callable[[Path], object]


def _docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Greenline memo"
    document.add_heading("Wind turbines on the ridge", level=1)
    document.add_paragraph("The second paragraph mentions grid storage.")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip([*table.rows[0].cells, *table.rows[1].cells], ["Metric", "Value", "NOI", "770"],
                          strict=True):
        cell.text = text
    document.save(str(path))


def _xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Budget"
    for row in (["Item", "Cost"], ["Wind turbines", 1200], ["Grid storage", 800]):
        sheet.append(row)
    book.save(str(path))


def _truncated(make: Callable[[Path], object], keep: float = 0.4) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        make(path)
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * keep)])
    return corrupt


SAMPLES: dict[str, Sample] = {
    "text": Sample(".txt", lambda p: p.write_text(TEXT), ["Wind turbines on the ridge.", "mentions grid storage."], {},
                   lambda p: p.write_bytes(BROKEN_UTF8)),
    "markdown": Sample(".md", lambda p: p.write_text("---\ntitle: Ridge notes\n---\n# Wind turbines\n\n" + TEXT),
                       ["Wind turbines", "mentions grid storage."], {"title": "Ridge notes"},
                       lambda p: p.write_bytes(b"# Title\n\n" + BROKEN_UTF8)),
    "html": Sample(".html", lambda p: p.write_text("<html><head><title>Ridge notes</title><script>var x;</script>"
                                                   "</head><body><h1>Wind turbines</h1><p>The second paragraph "
                                                   "mentions grid storage.</p></body></html>"),
                   ["Wind turbines", "mentions grid storage."], {"title": "Ridge notes"},
                   lambda p: p.write_bytes(b"<html><body><p>" + BROKEN_UTF8 + b"</p></body></html>")),
    "pdf": Sample(".pdf", lambda p: write_pdf_pages(GLENVIEW_PDF, p, pages=1), ["Glenview"], {"pages": 1},
                  _truncated(lambda p: write_pdf_pages(GLENVIEW_PDF, p, pages=1), 0.3)),
    "docx": Sample(".docx", _docx, ["Wind turbines on the ridge", "mentions grid storage.", "Metric: NOI | Value: 770"],
                   {"title": "Greenline memo", "tables": 1}, _truncated(_docx)),
    "xlsx": Sample(".xlsx", _xlsx, ["Item: Wind turbines | Cost: 1200"], {"sheets": ["Budget"]},
                   _truncated(_xlsx)),
}


def _documents() -> list[Any]:
    return [pytest.param(f, id=f.kind) for f in formats() if not f.records]


def _sample(fmt: FileFormat) -> Sample:
    sample = SAMPLES.get(fmt.kind)
    assert sample is not None, (f"reader {fmt.kind!r} is registered but has no contract sample: add one to "
                                f"SAMPLES in {__name__}")
    return sample


def _read(path: Path, detected: Detected) -> tuple[list[Block], dict[str, Any]]:
    info: dict[str, Any] = {}
    return list(read_blocks(path, detected, info)), info


@pytest.mark.parametrize("fmt", _documents())
def test_a_file_of_the_format_yields_text_blocks_and_its_facts(fmt: FileFormat, tmp_path: Path) -> None:
    sample = _sample(fmt)
    path = tmp_path / f"sample{sample.suffix}"
    sample.make(path)
    detected = detect(path)
    assert detected.kind == fmt.kind and detected.content_type == fmt.content_type
    blocks, info = _read(path, detected)
    assert blocks and all(isinstance(b, Block) and b.text.strip() for b in blocks)
    assert all(isinstance(b.path, tuple) and all(isinstance(p, str) for p in b.path) for b in blocks)
    assert all(b.page is None or b.page >= 1 for b in blocks)
    text = "\n".join(b.text for b in blocks)
    assert all(contains_words(text, w) for w in sample.words), text
    assert {k: info.get(k) for k in sample.info} == sample.info
    json.dumps(info)  # facts go into the document's metadata


@pytest.mark.parametrize("fmt", _documents())
def test_a_corrupt_file_of_the_format_is_a_file_problem(fmt: FileFormat, tmp_path: Path) -> None:
    sample = _sample(fmt)
    path = tmp_path / f"broken{sample.suffix}"
    sample.corrupt(path)
    with pytest.raises(FileProblem) as caught:
        _read(path, Detected(fmt.kind, None if fmt.binary else "utf-8"))
    assert caught.value.failed and caught.value.reason


@pytest.mark.parametrize("fmt", _documents())
def test_every_declared_extension_and_content_type_finds_the_reader(fmt: FileFormat, tmp_path: Path) -> None:
    sample = _sample(fmt)
    for ext in fmt.extensions:
        path = tmp_path / f"sample{ext.upper()}"
        sample.make(path)
        assert detect(path).kind == fmt.kind, ext
    assert kind_for_content_type(fmt.content_type) == fmt.kind
    assert format_of(fmt.kind).read is not None


def test_records_formats_are_registered_without_a_document_reader(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n')
    detected = detect(path)
    assert detected.kind == "jsonl" and detected.is_records and detected.content_type == "application/x-ndjson"
    with pytest.raises(KeyError, match="records"):
        _read(path, detected)


#: a complete reader module: RTF-ish files (``{\rtf``), their plain words as one block, one registration line
RTF_READER = '''
from rem_db.ingest.blocks import Block
from rem_db.ingest.detect import FileProblem
from rem_db.ingest.readers.registry import register_reader


def read(path, detected, info):
    raw = path.read_bytes()
    if not raw.rstrip().endswith(b"}"):
        raise FileProblem("corrupt RTF (no closing brace)")
    words = [w for w in raw.decode("latin-1").strip("{}").split() if not w.startswith("\\\\")]
    info["words"] = len(words)
    yield Block(" ".join(words))


register_reader("rtf", read, content_type="application/rtf", extensions=(".rtf",), binary=True, magic=b"{\\\\rtf")
'''


@pytest.fixture
def rtf_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib
    import sys

    from rem_db.ingest.readers.registry import unregister_reader

    (tmp_path / "rem_rtf_reader.py").write_text(RTF_READER)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("rem_rtf_reader")
    try:
        yield "rtf"
    finally:
        unregister_reader("rtf")
        sys.modules.pop("rem_rtf_reader", None)


def test_a_registered_reader_module_is_detected_and_read(rtf_reader: str, tmp_path: Path) -> None:
    from rem_db.ingest import iter_chunks

    memo = tmp_path / "memo.rtf"
    memo.write_bytes(b"{\\rtf1\\ansi Wind turbines on the ridge}")
    assert detect(memo).kind == "rtf" and detect(memo).content_type == "application/rtf"
    renamed = tmp_path / "memo.txt"
    renamed.write_bytes(memo.read_bytes())
    assert detect(renamed).kind == "rtf"  # its signature decides, whatever the name
    blocks, info = _read(memo, detect(memo))
    assert [b.text for b in blocks] == ["Wind turbines on the ridge"] and info == {"words": 5}
    assert [c.text for c in iter_chunks(memo)] == ["Wind turbines on the ridge"]
    fake = tmp_path / "fake.rtf"
    fake.write_text("plain words, no signature")
    with pytest.raises(FileProblem, match=r"not a valid RTF file \(it does not start with \{\\rtf\)"):
        detect(fake)


def test_a_taken_extension_or_kind_is_not_silently_replaced() -> None:
    from rem_db.ingest.readers.registry import register_reader

    with pytest.raises(ValueError, match="already read as 'markdown'"):
        register_reader("notes", lambda p, d, i: iter(()), content_type="text/x-notes", extensions=(".md",))
    with pytest.raises(ValueError, match="already registered"):
        register_reader("pdf", lambda p, d, i: iter(()), content_type="application/pdf", extensions=(".pdf",))
    assert "notes" not in {f.kind for f in formats()}
