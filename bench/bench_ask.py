"""`rem ask` evaluation (issue 16): query-type accuracy and answer accuracy on the example shop's questions.

    python bench/bench_ask.py                  # offline planner and the LLM path (fake server, recorded plans)
    python bench/bench_ask.py --offline-only   # the offline planner only
    python bench/bench_ask.py --show           # every question with its plan and verdict

The shop (examples/shop) is loaded into a fresh database under a temporary directory; each question of
examples/shop/questions.json is asked through ``Database.ask`` (planning and execution, up to 3 stages).

- **Query-type accuracy**: the plan's ``query_type`` equals the question's expected type.
- **Answer accuracy**: the results hold what the question expects, by its kind of expectation: ``keys`` —
  every expected key (the row's key-field value) is among the result rows (``exact``: and no other row of
  that table is); ``value`` — some column of the first result row equals the number (to 0.01); ``rows`` —
  every expected row (a subset of columns) equals some result row on those columns.

The LLM path runs the same questions with ``model="openai:recorded"`` against tests/fake_llm.py's server on
127.0.0.1, which answers each question with the plan recorded for it in bench/ask_recorded_plans.json. Those
plans are hand-written: what a good model should answer given the schemas (they were not produced by a real
model); identifier-like questions never reach the model. The figure measures the LLM path's plumbing
(prompt -> structured output -> validation -> execution), not a model's quality.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "examples" / "shop" / "questions.json"
RECORDED = Path(__file__).resolve().parent / "ask_recorded_plans.json"
TOLERANCE = 0.01


def load_shop() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shop_load", ROOT / "examples" / "shop" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["questions"])


def _key_of(row: dict[str, Any], key_fields: dict[str, str | None]) -> Any:
    field = key_fields.get(str(row.get("entity_type")))
    return row.get(field) if field else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= TOLERANCE
    return bool(a == b)


def answer_correct(question: dict[str, Any], results: list[dict[str, Any]], key_fields: dict[str, str | None]) -> bool:
    """See the module docstring."""
    if "keys" in question:
        found = [_key_of(r, key_fields) for r in results]
        if not all(k in found for k in question["keys"]):
            return False
        if question.get("exact"):
            tables = {r.get("entity_type") for r in results if _key_of(r, key_fields) in question["keys"]}
            extra = [k for r, k in zip(results, found, strict=True)
                     if r.get("entity_type") in tables and k not in question["keys"]]
            return not extra
        return True
    if "value" in question:
        return bool(results) and any(_same(v, question["value"]) for v in results[0].values())
    if "rows" in question:
        return all(any(all(_same(r.get(k), v) for k, v in want.items()) for r in results)
                   for want in question["rows"])
    raise ValueError(f"question {question['id']} has no expectation")


def evaluate(db: Any, questions: list[dict[str, Any]], model: str | None = None) -> dict[str, Any]:
    """Ask every question; returns accuracies, timings and per-question verdicts."""
    key_fields = {s["short_name"]: s.get("key_field") for s in db.list_schemas()}
    verdicts = []
    times = []
    for q in questions:
        started = time.perf_counter()
        result = db.ask(q["question"], model=model)
        times.append((time.perf_counter() - started) * 1000)
        verdicts.append({"id": q["id"], "question": q["question"], "expected": q["type"],
                         "got": result["query_type"], "confidence": result["confidence"],
                         "query": result["plan"]["primary_query"]["query_string"], "stages": result["stages"],
                         "type_ok": result["query_type"] == q["type"],
                         "answer_ok": answer_correct(q, result["results"], key_fields)})
    n = len(verdicts)
    by_type: dict[str, list[int]] = {}
    for v in verdicts:
        counts = by_type.setdefault(v["expected"], [0, 0, 0])
        counts[0] += 1
        counts[1] += v["type_ok"]
        counts[2] += v["answer_ok"]
    times.sort()
    return {"questions": n, "type_accuracy": sum(v["type_ok"] for v in verdicts) / n,
            "answer_accuracy": sum(v["answer_ok"] for v in verdicts) / n, "by_type": by_type,
            "p50_ms": times[n // 2], "max_ms": times[-1], "verdicts": verdicts}


def _report(name: str, result: dict[str, Any], show: bool) -> None:
    print(f"\n{name}: {result['questions']} questions, query type {result['type_accuracy']:.1%}, "
          f"answer {result['answer_accuracy']:.1%}, ask p50 {result['p50_ms']:.1f} ms (max {result['max_ms']:.0f} ms)")
    print("| type | questions | type correct | answer correct |\n|---|---|---|---|")
    for kind, (count, typed, answered) in sorted(result["by_type"].items()):
        print(f"| {kind} | {count} | {typed} | {answered} |")
    for v in result["verdicts"]:
        if show or not (v["type_ok"] and v["answer_ok"]):
            mark = ("type " if not v["type_ok"] else "") + ("answer" if not v["answer_ok"] else "")
            print(f"  {v['id']} {mark or 'ok':12} {v['question']!r}: expected {v['expected']}, got {v['got']} "
                  f"({v['confidence']:.2f}) {v['query']}")


def _llm(db_path: Path, questions: list[dict[str, Any]], show: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_llm import FakeLLM
    from rem_db import Database

    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))["plans"]

    def replay(request: Any) -> Any:
        return recorded.get(request.question.strip(), {"unknown question": request.question})

    with FakeLLM(default=replay, api_key="bench-key") as server:
        saved = {k: os.environ.get(k) for k in ("P8_LLM_BASE_URL", "P8_OPENAI_API_KEY")}
        os.environ.update({"P8_LLM_BASE_URL": server.base_url, "P8_OPENAI_API_KEY": "bench-key"})
        try:
            with Database(db_path, read_only=True) as db:
                result = evaluate(db, questions, model="openai:recorded")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    _report("LLM path (fake server replaying recorded plans)", result, show)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline-only", action="store_true")
    parser.add_argument("--show", action="store_true", help="print every question, not only the misses")
    args = parser.parse_args()
    questions = load_questions()
    shop = load_shop()
    with tempfile.TemporaryDirectory(prefix="bench-ask-") as tmp:
        path = Path(tmp) / "shop"
        started = time.perf_counter()
        with shop.build(path, dt.datetime.now(dt.UTC)) as db:
            loaded = time.perf_counter() - started
            print(f"shop loaded in {loaded:.1f} s: {db.stats()['tables']}")
        from rem_db import Database

        with Database(path, read_only=True) as db:
            offline = evaluate(db, questions)
        _report("offline planner", offline, args.show)
        if not args.offline_only:
            _llm(path, questions, args.show)


if __name__ == "__main__":
    main()
