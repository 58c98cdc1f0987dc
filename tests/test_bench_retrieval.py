"""The retrieval evaluation (bench/bench_retrieval.py, issue 19): its questions file covers the whole corpus
with valid entries, its scoring ranks documents (not chunks), and it runs end to end on the real corpus."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path("/work/shared/corpus")
GLENVIEW = "doc-001-glenview-industrial-warehouse.pdf"
IRONWOOD = "doc-011-ironwood-office-park.pdf"


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_retrieval", ROOT / "bench" / "bench_retrieval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("doc-*"))


def test_the_questions_cover_every_corpus_document() -> None:
    queries = bench.load_queries(bench.DEFAULT_QUESTIONS)
    questions = [q for q in queries if q.kind != "name"]
    names = [q for q in queries if q.kind == "name"]
    assert len(CORPUS_FILES) == 12
    assert len(questions) >= 40 and {q.kind for q in questions} == set(bench.QUESTION_KINDS)
    assert {e for q in queries for e in q.expected} == set(CORPUS_FILES)  # no typo, no document left out
    per_document = Counter(e for q in questions for e in q.expected)
    assert min(per_document[f] for f in CORPUS_FILES) >= 3, per_document
    assert len({q.text for q in questions}) == len(questions)
    # one name query per document: its file name without the numeric prefix and the extension
    by_file_name = {q.text: set(q.expected) for q in names if q.source == "file name"}
    for file in CORPUS_FILES:
        stem = re.sub(r"^doc-\d+-", "", file.rsplit(".", 1)[0]).replace("-", " ")
        assert file in by_file_name.get(stem, set()), (file, stem)
    assert len([q for q in names if q.source == "file name"]) == 12


def test_a_malformed_entry_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "questions.json"
    bad.write_text(json.dumps([{"question": "q", "expected": GLENVIEW, "kind": "fact"},
                               {"question": "q2", "expected": GLENVIEW, "kind": "trivia"}]))
    with pytest.raises(ValueError, match=r"questions.json entry 2: 'kind' must be one of .*'trivia'"):
        bench.load_queries(bad)
    bad.write_text(json.dumps([{"question": "q", "expected": [], "kind": "fact"}]))
    with pytest.raises(ValueError, match="entry 1: 'expected' must be a file name"):
        bench.load_queries(bad)


def test_scoring_ranks_distinct_documents_and_counts_any_expected_one() -> None:
    names = {"d1": "a.pdf", "d2": "b.docx", "d3": "c.xlsx"}
    hits = [({"document_id": "d2", "content": "x"}, 0.9), ({"document_id": "d2", "content": "y"}, 0.8),
            ({"entity_type": "moments", "id": "m"}, 0.7), ({"entity_type": "documents", "id": "d3"}, 0.6),
            ({"document_id": "d1", "content": "z"}, 0.5)]
    ranked = bench.ranked_documents(hits, names)
    assert [name for name, _ in ranked] == ["b.docx", "c.xlsx", "a.pdf"]
    assert ranked[0][1]["content"] == "x"  # a document is represented by its best chunk
    assert bench.rank_of(ranked, ("a.pdf",)) == 3
    assert bench.rank_of(ranked, ("a.pdf", "c.xlsx")) == 2
    assert bench.rank_of(ranked, ("missing.pdf",)) is None
    assert bench.scores([1, 3, None, 2]) == {"hit@1": 0.25, "hit@3": 0.75, "hit@10": 0.75,
                                             "mrr": pytest.approx((1 + 1 / 3 + 1 / 2) / 4), "n": 4}
    assert bench.file_name("file:///c/a%20b/doc-1%20x.pdf#chunk-0002") == "doc-1 x.pdf"


def test_the_bench_runs_end_to_end_on_part_of_the_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "questions.json"
    questions.write_text(json.dumps([
        {"question": "How many turbines does the Iowa wind farm have?",
         "expected": "doc-010-greenline-wind-phase-i.docx", "kind": "number"},
        {"question": "ironwood office park", "expected": IRONWOOD, "kind": "name", "from": "file name"},
    ]))
    argv = ["--json", "--glob", "doc-01*", "--questions", str(questions), "--keep", str(tmp_path / "kept")]
    assert bench.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["documents"] == 3 and first["ingest"]["added"] == 3
    assert [q["hybrid"]["rank"] for q in first["queries"]] == [1, 1]
    assert [q["vector"]["rank"] for q in first["queries"]] == [1, 1]
    assert first["scores"]["hybrid"]["name"] == {"hit@1": 1.0, "hit@3": 1.0, "hit@10": 1.0, "mrr": 1.0, "n": 1}
    # --keep reuses the database: the second run ingests nothing and answers the same
    assert bench.main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["ingest"]["unchanged"] == 3 and second["ingest"]["added"] == 0
    assert second["queries"] == first["queries"]


def test_an_expected_document_missing_from_the_database_is_an_error(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "questions.json"
    questions.write_text(json.dumps([{"question": "warehouse DSCR", "expected": GLENVIEW, "kind": "number"}]))
    assert bench.main(["--glob", "doc-011*", "--questions", str(questions)]) == 1
    err = capsys.readouterr().err
    assert f"expected documents not in the database: {GLENVIEW}" in err and IRONWOOD in err
