"""`rem export` through the real executable: files, the summary, --all, the progress bar, exit codes."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from cli_helpers import Rem
from export_helpers import ITEMS, PARQUET_TYPES, compare_rows, duck, parquet_rows

from rem_db import Database


def _db_rows(rem: Rem, table: str = "items") -> list[dict]:
    with Database(rem.db_path, read_only=True) as db:
        return list(db.rows(table))


def test_export_table_to_parquet(rem: Rem, tmp_path: Path) -> None:
    assert "directory out does not exist" in rem.fails("export", "items", "--output", "out/items.parquet").err
    result = rem.ok("export", "items", "--output", "out/items.parquet", "--parents")
    out = tmp_path / "out" / "items.parquet"
    assert result.out == "" and result.err.startswith("exported 6 rows of items to out/items.parquet (")
    compare_rows(_db_rows(rem), parquet_rows(out)[1], list(PARQUET_TYPES))


def test_export_csv_with_where_and_params(rem: Rem, tmp_path: Path) -> None:
    rem.ok("export", "items", "-o", "cheap.csv", "--where", "price < ? AND in_stock = true", "-p", "10")
    names = duck(f"SELECT name FROM read_csv('{tmp_path / 'cheap.csv'}') ORDER BY name").column("name").to_pylist()
    assert names == ["Pot, small"]
    rem.ok("export", "items", "-o", "all.data", "--format", "jsonl")
    assert len((tmp_path / "all.data").read_bytes().splitlines()) == 6
    result = rem.ok("export", "items", "-o", "into/", "-f", "csv")  # a trailing / names a directory
    assert result.err.startswith("exported 6 rows of items to into/items.csv (")


def test_export_all_prints_manifest_as_json(rem: Rem, tmp_path: Path) -> None:
    result = rem.ok("--format", "json", "export", "--all", "-o", "dump", "--include-deleted")
    manifest = result.json()
    assert manifest == {**orjson.loads((tmp_path / "dump" / "manifest.json").read_bytes()),
                        "path": "dump", "manifest": "dump/manifest.json"}
    assert [t["table"] for t in manifest["tables"]] == ["items", "schemas"]
    assert pq.read_metadata(tmp_path / "dump" / "items.parquet").num_rows == 6
    assert "manifest dump/manifest.json; skipped 5 empty: documents, messages" in result.err


def test_export_works_while_another_process_holds_the_database(rem: Rem, tmp_path: Path) -> None:
    with Database(rem.db_path) as db:  # read-write open in this process
        db.insert("items", {"name": "added while open"})
        rem.ok("export", "items", "-o", "live.parquet")
    assert pq.read_metadata(tmp_path / "live.parquet").num_rows == 7


def test_progress_bar_is_drawn_on_a_terminal(rem: Rem, tmp_path: Path) -> None:
    out = tmp_path / "tty.parquet"  # on_terminal runs in the caller's directory: an absolute path
    code, drawn = rem.on_terminal("export", "items", "-o", str(out), input="")
    assert code == 0 and pq.read_metadata(out).num_rows == 6
    assert b"exporting items" in drawn and b"exported 6 rows of items" in drawn


def test_errors_exit_1_with_a_message(rem: Rem, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    unknown, blocked, bad_ext, bad_where, no_vectors = rem.each(
        ("export", "nope", "-o", "nope.parquet"),
        ("export", "items", "-o", "file.txt/sub/items.parquet"),
        ("export", "items", "-o", "items.json"),
        ("export", "items", "-o", "x.parquet", "--where", "colour = 'red'"),
        ("export", "items", "-o", "x.parquet", "--with-embeddings"),
    )
    assert unknown.err.startswith("error: unknown table 'nope' (tables: ")
    assert blocked.err == "error: cannot create directory file.txt/sub: file.txt is a file, not a directory\n"
    assert "cannot tell the export format from 'items.json'" in bad_ext.err
    assert "unknown column 'colour'" in bad_where.err
    assert "'items' has no embedding_fields" in no_vectors.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "file.txt"]  # no file written


def test_usage_errors_exit_2(rem: Rem) -> None:
    both, neither = rem.each(("export", "items", "--all", "-o", "d"), ("export", "-o", "d"), code=2)
    assert "either TABLE or --all" in both.err
    assert "name the table to export, or use --all" in neither.err


def test_empty_table_exports_its_schema(rem: Rem, tmp_path: Path) -> None:
    with Database(rem.db_path) as db:
        schema = copy.deepcopy(ITEMS)
        schema["title"] = "empty_items"
        db.register_schema(schema)
    result = rem.ok("export", "empty_items", "-o", "empty.parquet")
    assert "exported 0 rows of empty_items" in result.err
    assert pq.read_schema(tmp_path / "empty.parquet").names == list(PARQUET_TYPES)
