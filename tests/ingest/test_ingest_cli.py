"""`rem ingest`, run as a real `rem` subprocess: summary table, JSON report, exit codes, options, the
progress bar on a terminal."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Rem

from rem_db import Database


def folder_with_documents(root: Path) -> Path:
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "ferns.md").write_text("# Ferns\n\nFerns like humid, shaded rooms and moist soil.\n")
    (docs / "sub" / "cacti.md").write_text("# Cacti\n\nCacti need sun and very little water.\n")
    (docs / "sub" / "notes.txt").write_text("Orchids bloom for months.\n")
    (docs / "empty.txt").write_text("")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    return docs


def test_ingest_a_directory_prints_a_summary_and_fails_for_broken_files(rem: Rem, tmp_path: Path) -> None:
    docs = folder_with_documents(tmp_path)
    result = rem("ingest", str(docs), "--recursive", "--tags", "plants, indoor", "--category", "garden",
                 "--metadata", '{"team": "green"}')
    assert result.code == 1 and "Traceback" not in result.err
    rows = {line.split("│")[1].strip(): line for line in result.out.splitlines() if line.startswith("│")}
    assert set(rows) == {"broken.pdf", "empty.txt", "ferns.md", "sub/cacti.md", "sub/notes.txt"}
    assert "failed" in rows["broken.pdf"] and "corrupt PDF" in rows["broken.pdf"]
    assert "skipped" in rows["empty.txt"] and "empty file" in rows["empty.txt"]
    assert all("added" in rows[name] for name in ("ferns.md", "sub/cacti.md", "sub/notes.txt"))
    assert "5 files: 3 added, 0 updated, 0 unchanged, 1 skipped, 1 failed; 3 chunks written" in result.err
    assert result.err.rstrip().endswith("error: 1 file could not be ingested (see the table above)")
    with Database(rem.db_path, read_only=True) as db:
        doc = db.lookup("ferns.md")[0]
        assert doc["tags"] == ["plants", "indoor"] and doc["category"] == "garden"
        assert doc["metadata"]["team"] == "green"
        hits = db.search("a plant for a dark, damp bathroom", top_k=1)
        assert hits[0][0]["uri"] == (docs / "ferns.md").resolve().as_uri() + "#chunk-0000"
        assert hits[0][0]["tags"] == ["plants", "indoor"]


def test_glob_and_recursion_choose_the_files_and_json_reports_them(rem: Rem, tmp_path: Path) -> None:
    docs = folder_with_documents(tmp_path)
    top = rem.ok("ingest", str(docs), "--glob", "*.md", "--format", "json").json()
    assert [Path(f["path"]).name for f in top["files"]] == ["ferns.md"]  # not recursive: sub/ is left out
    deep = rem.ok("ingest", str(docs), "-r", "-g", "*.md", "-f", "json").json()
    assert [(Path(f["path"]).name, f["status"]) for f in deep["files"]] == [
        ("ferns.md", "unchanged"), ("cacti.md", "added")]
    assert deep["summary"] == {"files": 2, "added": 1, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 0,
                               "chunks": 1, "rows": 0}


def test_usage_errors_are_one_line_on_stderr(rem: Rem, tmp_path: Path) -> None:
    docs = folder_with_documents(tmp_path)
    calls = {
        ("ingest", str(tmp_path / "missing")): "no such file or directory",
        ("ingest", str(docs / "empty.txt")): f"{docs / 'empty.txt'}: empty file",
        ("ingest", str(docs), "--metadata", "{oops"): "invalid JSON in --metadata",
        ("ingest", str(docs), "--chunk-tokens", "10"): "chunk_tokens must be a whole number from 64",
    }
    for args, message in calls.items():
        result = rem.fails(*args)
        assert message in result.err, (args, result.err)
        assert result.err.count("\n") == 1


def test_records_through_the_cli(rem: Rem, tmp_path: Path) -> None:
    from cli_helpers import PRODUCTS_SCHEMA

    with Database(rem.db_path) as db:
        db.register_schema(PRODUCTS_SCHEMA)
    path = tmp_path / "products.csv"
    path.write_text("product_code,name,price\nPP-1,Pot,4.5\nPP-2,Vase,12\n")
    result = rem.ok("ingest", str(path), "--schema", "products")
    assert "2 rows" in result.out and "1 file: 1 added" in result.err and "2 rows written" in result.err
    assert rem.count("products") == 2


def test_a_progress_bar_is_drawn_on_a_terminal_only(rem: Rem, tmp_path: Path) -> None:
    docs = folder_with_documents(tmp_path)
    code, drawn = rem.on_terminal("ingest", str(docs), "--glob", "*.md", input="")
    assert code == 0
    assert b"files" in drawn and b"chunks" in drawn
    piped = rem.ok("ingest", str(docs), "--glob", "*.md")  # stderr is a pipe: the summary line only
    assert piped.err == "1 file: 0 added, 0 updated, 1 unchanged, 0 skipped, 0 failed; 0 chunks written\n"
