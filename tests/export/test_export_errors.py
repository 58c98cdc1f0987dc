"""Bad input to export: unknown tables, unwritable paths, bad conditions, values the schema no longer fits.
Every failure is a typed rem_db error naming what is wrong, and leaves no file behind."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from export_helpers import ITEMS

from rem_db import ConfigError, Database, NotFoundError, QueryError, SchemaError, StorageError


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "db" not in p.relative_to(root).parts)


def test_unknown_table_is_not_found(db: Database, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="unknown table 'nope'"):
        db.export("nope", output=tmp_path / "out" / "nope.parquet")
    assert not (tmp_path / "out").exists()


def test_missing_directories_need_parents(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "c" / "items.parquet"
    with pytest.raises(NotFoundError, match=r"directory .*/a/b/c does not exist.*parents=True"):
        db.export("items", output=out)
    assert _files(tmp_path) == []  # like mkdir without -p: nothing made
    assert db.export("items", output=out, parents=True)["rows"] == len(items)
    assert pq.read_metadata(out).num_rows == len(items)
    assert _files(tmp_path) == ["a", "a/b", "a/b/c", "a/b/c/items.parquet"]  # no temporary file left


def test_existing_directory_gets_table_file(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    summary = db.export("items", output=tmp_path / "exports")
    assert summary["path"] == str(tmp_path / "exports" / "items.parquet")
    assert db.export("items", output=str(tmp_path / "new") + "/", format="csv")["path"] == \
        str(tmp_path / "new" / "items.csv")


def test_path_under_a_regular_file_is_a_storage_error(db: Database, items: list[dict[str, Any]],
                                                      tmp_path: Path) -> None:
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match=r"plain\.txt is a file, not a directory"):
        db.export("items", output=blocker / "sub" / "items.parquet")
    with pytest.raises(StorageError, match="is a file, not a directory"):
        db.export(output=blocker, all_tables=True)
    assert blocker.read_text() == "not a directory"


def test_target_that_is_a_directory_is_a_storage_error(db: Database, items: list[dict[str, Any]],
                                                       tmp_path: Path) -> None:
    (tmp_path / "exports" / "items.parquet" / "inside").mkdir(parents=True)
    with pytest.raises(StorageError, match=r"exports/items\.parquet: it is a directory"):
        db.export("items", output=tmp_path / "exports")  # an existing directory: exports/items.parquet
    assert _files(tmp_path) == ["exports", "exports/items.parquet", "exports/items.parquet/inside"]


def test_bad_where_fails_before_any_file(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="unknown column 'colour'"):
        db.export("items", output=tmp_path / "x.parquet", where="colour = 'red'")
    with pytest.raises(QueryError, match="type mismatch"):
        db.export("items", output=tmp_path / "x.parquet", where="qty = 'three'")
    with pytest.raises(QueryError, match="one table"):
        db.export(output=tmp_path / "all", all_tables=True, where="qty > 1")
    assert _files(tmp_path) == []


def test_argument_mistakes_are_config_errors(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="output path"):
        db.export("items")
    with pytest.raises(ConfigError, match="table name"):
        db.export(output=tmp_path / "x.parquet")
    with pytest.raises(ConfigError, match="not both"):
        db.export("items", output=tmp_path / "x", all_tables=True)


def test_bad_row_group_setting(db: Database, items: list[dict[str, Any]], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("0", "many"):
        monkeypatch.setenv("P8_EXPORT_ROW_GROUP_SIZE", value)
        with pytest.raises(ConfigError, match="P8_EXPORT_ROW_GROUP_SIZE"):
            db.export("items", output=tmp_path / "x.parquet")


def test_no_vectors_to_export_is_a_schema_error(db: Database, items: list[dict[str, Any]], tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="'items' has no embedding_fields"):
        db.export("items", output=tmp_path / "x.parquet", with_embeddings=True)


def test_value_the_schema_no_longer_fits(db: Database, tmp_path: Path) -> None:
    """A row written before a minor schema change made ``qty`` an integer: a SchemaError naming the row; the
    previous export of the same name stays intact; JSON Lines (values as stored) still works."""
    old = copy.deepcopy(ITEMS)
    old["properties"]["qty"] = {"type": "string"}
    db.register_schema(old)
    rows = db.insert_batch("items", [{"name": f"n{i}", "qty": str(i)} for i in range(3)])
    out = tmp_path / "items.parquet"
    out.write_bytes(b"previous export")
    new = copy.deepcopy(ITEMS)
    new["version"] = "1.1.0"
    db.register_schema(new)
    with pytest.raises(SchemaError, match=r"column 'qty' \(int64\) cannot hold \"0\" of row " + rows[0]["id"]):
        db.export("items", output=out)
    assert out.read_bytes() == b"previous export"
    assert _files(tmp_path) == ["items.parquet"]
    assert db.export("items", output=tmp_path / "items.jsonl")["rows"] == 3
