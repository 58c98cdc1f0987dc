"""The ask evaluation (bench/bench_ask.py, issue 16): the shop's questions are well formed and cover every
query type, and the offline planner keeps its query-type accuracy at 85 % or more on them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from rem_db import Database

ROOT = Path(__file__).resolve().parents[1]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ask", ROOT / "bench" / "bench_ask.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def test_the_questions_cover_every_query_type_with_expectations() -> None:
    questions = bench.load_questions()
    assert len(questions) >= 40
    assert {q["type"] for q in questions} == {"lookup", "search", "sql", "traverse", "hybrid"}
    assert len({q["id"] for q in questions}) == len(questions)
    assert all(any(k in q for k in ("keys", "value", "rows")) for q in questions)


def test_the_offline_planner_keeps_its_accuracy(tmp_path: Path) -> None:
    with bench.load_shop().build(tmp_path / "shop"):
        pass
    with Database(tmp_path / "shop", read_only=True) as db:
        result = bench.evaluate(db, bench.load_questions())
    misses = [(v["id"], v["question"], v["got"]) for v in result["verdicts"] if not v["type_ok"]]
    assert result["type_accuracy"] >= 0.85, misses
    assert result["answer_accuracy"] >= 0.85
