"""Retrieval-quality evaluation (issue 19, part 5): do questions and name searches find the right document?

    python bench/bench_retrieval.py                    # ingest /work/shared/corpus into a temporary database
    python bench/bench_retrieval.py --keep /tmp/rq     # reuse (or create) the database at /tmp/rq/db; after a
                                                       # change to ingest, run without it (a fresh database)
    python bench/bench_retrieval.py --json             # machine-readable results on stdout
    python bench/bench_retrieval.py --corpus DIR --glob '*' --questions FILE

The corpus (12 business documents: PDF, DOCX, XLSX; ``--glob doc-*`` leaves its README out) is ingested through
the public API, ``Database.ingest(folder)``, with the default settings and embedding model. Each entry of
``bench/retrieval_questions.json`` — ``{"question", "expected", "kind"}`` — is then searched twice, as a user
would: ``db.search(q, top_k=10)`` (vector) and ``db.search(q, top_k=10, hybrid=True)`` (hybrid), over every
table with embeddings (the chunks table ``resources``; ``documents`` too if it ever holds embedded text).

Scoring: each hit is mapped to its document (a chunk by its ``document_id``, a ``documents`` row is itself),
documents are deduplicated in rank order, and the rank of the first expected document is taken (``expected``
is a file name, or a list of names when several documents answer; any of them counts). hit@k = the share of
queries whose rank is <= k; MRR = the mean of 1/rank (0 when not in the top 10 results). Kinds: ``fact``,
``number``, ``which`` ("which document says ...") are questions; ``name`` is a search for a document by its
file name (without extension and numeric prefix) or by its title. Deterministic: no sampling, fixed order.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from rem_db import Database, DatabaseError

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path("/work/shared/corpus")
DEFAULT_QUESTIONS = HERE / "retrieval_questions.json"
QUESTION_KINDS = ("fact", "number", "which")
KINDS = (*QUESTION_KINDS, "name")
MODES = ("vector", "hybrid")
TOP_K = 10
CUTOFFS = (1, 3, 10)
#: the issue's goals: (mode, group, metric) -> minimum
GOALS = {("hybrid", "questions", "hit@3"): 0.95, ("hybrid", "questions", "mrr"): 0.9,
         ("hybrid", "name", "hit@1"): 0.95}


@dataclass(frozen=True)
class Query:
    """One evaluation entry: the text searched, the documents that answer it (file names), its kind."""

    text: str
    expected: tuple[str, ...]
    kind: str
    source: str | None = None  # name queries: "file name" or "title"


def load_queries(path: Path) -> list[Query]:
    """The entries of a questions file, checked: a list of objects with a non-empty ``question``, an
    ``expected`` file name or non-empty list of names, and a ``kind`` from :data:`KINDS`."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of questions, got {type(entries).__name__}")
    queries = []
    for n, entry in enumerate(entries, 1):
        where = f"{path.name} entry {n}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object, got {type(entry).__name__}")
        text, expected, kind = entry.get("question"), entry.get("expected"), entry.get("kind")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: 'question' must be a non-empty string")
        names = [expected] if isinstance(expected, str) else expected
        if not isinstance(names, list) or not names or not all(isinstance(e, str) and e for e in names):
            raise ValueError(f"{where}: 'expected' must be a file name or a non-empty list of file names")
        if kind not in KINDS:
            raise ValueError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
        queries.append(Query(text, tuple(names), kind, entry.get("from")))
    return queries


def file_name(uri: str) -> str:
    """The file name a document uri ends in (``file:///a/doc-001-x.pdf#chunk-0002`` -> ``doc-001-x.pdf``)."""
    return unquote(urlsplit(uri).path).rsplit("/", 1)[-1]


def document_names(db: Database) -> dict[str, str]:
    """Document id -> file name, for every row of ``documents``."""
    return {row["id"]: file_name(row["uri"]) for row in db.query("SELECT id, uri FROM documents")}


def document_of(entity: dict[str, Any], names: dict[str, str]) -> str | None:
    """The file name of the document a search hit belongs to (``None``: not a document or one of its chunks)."""
    if entity.get("entity_type") == "documents":
        return names.get(entity["id"])
    doc_id = entity.get("document_id")
    return names.get(doc_id) if isinstance(doc_id, str) else None


def ranked_documents(hits: Sequence[tuple[dict[str, Any], float]],
                     names: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Distinct documents of the hits in rank order, each with its best-ranked hit."""
    seen: dict[str, dict[str, Any]] = {}
    for entity, _ in hits:
        name = document_of(entity, names)
        if name is not None and name not in seen:
            seen[name] = entity
    return list(seen.items())


def rank_of(ranked: Sequence[tuple[str, Any]], expected: Sequence[str]) -> int | None:
    """1-based rank of the first expected document among the ranked documents, ``None`` when absent."""
    for n, (name, _) in enumerate(ranked, 1):
        if name in expected:
            return n
    return None


def scores(ranks: Sequence[int | None]) -> dict[str, float | int]:
    """hit@1/3/10, MRR (a miss counts 0) and n over the ranks of a group of queries."""
    n = len(ranks)
    out: dict[str, float | int] = {
        f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0 for k in CUTOFFS}
    out["mrr"] = sum(1 / r for r in ranks if r is not None) / n if n else 0.0
    out["n"] = n
    return out


def _snippet(entity: dict[str, Any], width: int = 90) -> str:
    text = " ".join(str(entity.get("content") or "").split())
    label = entity.get("name")
    if label:
        text = f"[{label}] {text}"
    return text if len(text) <= width else text[: width - 1] + "…"


def evaluate(db: Database, queries: Sequence[Query]) -> dict[str, Any]:
    """Search every query in both modes; per-query ranks, scores per mode and group, and the misses."""
    names = document_names(db)
    known = set(names.values())
    unknown = sorted({e for q in queries for e in q.expected} - known)
    if unknown:
        raise ValueError(f"expected documents not in the database: {', '.join(unknown)} "
                         f"(ingested: {', '.join(sorted(known)) or 'none'})")
    rows: list[dict[str, Any]] = []
    seconds = dict.fromkeys(MODES, 0.0)
    for query in queries:
        row: dict[str, Any] = {"question": query.text, "kind": query.kind, "expected": list(query.expected)}
        if query.source:
            row["from"] = query.source
        for mode in MODES:
            start = time.perf_counter()
            hits = db.search(query.text, top_k=TOP_K, hybrid=mode == "hybrid")
            seconds[mode] += time.perf_counter() - start
            ranked = ranked_documents(hits, names)
            row[mode] = {
                "rank": rank_of(ranked, query.expected),
                "ranked": [name for name, _ in ranked],
                "first": _snippet(ranked[0][1]) if ranked else None,
            }
        rows.append(row)
    groups: dict[str, list[dict[str, Any]]] = {kind: [r for r in rows if r["kind"] == kind] for kind in KINDS}
    groups["questions"] = [r for r in rows if r["kind"] in QUESTION_KINDS]
    table = {mode: {group: scores([r[mode]["rank"] for r in members]) for group, members in groups.items()}
             for mode in MODES}
    misses = [{"mode": mode, "question": r["question"], "kind": r["kind"], "expected": r["expected"],
               "rank": r[mode]["rank"], "ranked_first": r[mode]["ranked"][0] if r[mode]["ranked"] else None,
               "first_hit": r[mode]["first"]}
              for mode in MODES for r in rows if r[mode]["rank"] != 1]
    # a name query lists every document of that name: each should be found, not only the first
    unfound = list({(mode, r["question"], doc): {"mode": mode, "question": r["question"], "document": doc}
                    for mode in MODES for r in rows if r["kind"] == "name"
                    for doc in r["expected"] if doc not in r[mode]["ranked"]}.values())
    goals = [{"mode": mode, "group": group, "metric": metric, "goal": goal,
              "value": table[mode][group][metric], "met": table[mode][group][metric] >= goal}
             for (mode, group, metric), goal in GOALS.items()]
    return {"scores": table, "goals": goals, "misses": misses, "unfound_by_name": unfound, "queries": rows,
            "search_seconds": {mode: round(s, 3) for mode, s in seconds.items()}}


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                             check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run(corpus: Path, questions: Path, db_path: Path, glob: str | None) -> dict[str, Any]:
    """Ingest ``corpus`` into the database at ``db_path`` (a no-op for files it already holds unchanged),
    then evaluate the questions. Returns everything the report prints."""
    from rem_db.config import Settings

    queries = load_queries(questions)
    settings = Settings.from_env()
    db = Database(db_path)
    try:
        start = time.perf_counter()
        report = db.ingest(corpus, glob=glob)
        ingest_seconds = time.perf_counter() - start
        failed = [f"{Path(f.path).name}: {f.reason}" for f in report.failed]
        if failed:
            raise RuntimeError("ingest failed for " + "; ".join(failed))
        results = evaluate(db, queries)
        results.update({
            "corpus": str(corpus), "glob": glob, "questions_file": str(questions), "commit": _commit(),
            "model": settings.default_embedding, "precision": settings.local_embedding_precision,
            "top_k": TOP_K, "documents": db.count("documents"), "chunks": db.count("resources"),
            "ingest": {**report.summary(), "seconds": round(ingest_seconds, 2)},
        })
        return results
    finally:
        db.close()


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def print_report(results: dict[str, Any]) -> None:
    """The human-readable report: setup, the score table, the goals, the misses."""
    ingest = results["ingest"]
    print(f"corpus {results['corpus']} (glob {results['glob']!r}): {results['documents']} documents, "
          f"{results['chunks']} chunks; ingest {ingest['seconds']} s ({ingest['added']} added, "
          f"{ingest['updated']} updated, {ingest['unchanged']} unchanged)")
    print(f"model {results['model']} ({results['precision']}), top_k {results['top_k']}, commit {results['commit']}; "
          f"search time: " + ", ".join(f"{m} {s} s" for m, s in results["search_seconds"].items()))
    print()
    print("| mode | kind | hit@1 | hit@3 | hit@10 | MRR | n |")
    print("|---|---|---|---|---|---|---|")
    for mode, groups in results["scores"].items():
        for group in ("questions", *QUESTION_KINDS, "name"):
            s = groups[group]
            label = f"**{group}**" if group in ("questions", "name") else group
            print(f"| {mode} | {label} | {_pct(s['hit@1'])} | {_pct(s['hit@3'])} | {_pct(s['hit@10'])} | "
                  f"{s['mrr']:.3f} | {s['n']} |")
    print()
    for goal in results["goals"]:
        shown = (lambda v: f"{v:.3f}") if goal["metric"] == "mrr" else _pct
        print(f"goal: {goal['mode']} {goal['group']} {goal['metric']} >= {shown(goal['goal'])}: "
              f"{shown(goal['value'])} ({'met' if goal['met'] else 'NOT met'})")
    print()
    print(f"documents not in the top {results['top_k']} for their own name: {len(results['unfound_by_name'])}")
    for item in results["unfound_by_name"]:
        print(f"- [{item['mode']}] {item['question']!r}: {item['document']}")
    print()
    print(f"misses (expected document not ranked first): {len(results['misses'])}")
    for miss in results["misses"]:
        rank = f"rank {miss['rank']}" if miss["rank"] else f"not in top {results['top_k']}"
        print(f"- [{miss['mode']}, {miss['kind']}] {miss['question']!r}: {rank}; expected "
              f"{' or '.join(miss['expected'])}; first: {miss['ranked_first']} — {miss['first_hit']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of documents to ingest")
    parser.add_argument("--glob", default="doc-*", help="which files of the folder (default: doc-*; '*' for all)")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="questions file (JSON list)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the database in DIR/db and reuse it on the next run (re-ingest is a no-op "
                             "for unchanged files)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"corpus folder not found: {args.corpus}")
    glob = None if args.glob in ("", "*") else args.glob
    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            results = run(args.corpus, args.questions, args.keep / "db", glob)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
                results = run(args.corpus, args.questions, Path(tmp) / "db", glob)
    except (DatabaseError, ValueError, RuntimeError, OSError) as exc:
        print(f"bench_retrieval: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
