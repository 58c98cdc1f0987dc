"""Records files (JSON, JSONL, CSV/TSV): rows of a named table, inserted in batches, with a ``documents``
row per file so an unchanged file is not read again."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from core_helpers import PRODUCTS
from rem_db import Database, IngestError


@pytest.fixture
def products(db: Database) -> str:
    db.register_schema(copy.deepcopy(PRODUCTS))
    return "products"


def test_jsonl_rows_go_into_the_named_table(db: Database, products: str, tmp_path: Path) -> None:
    path = tmp_path / "products.jsonl"
    rows = [{"product_code": f"PP-{n}", "name": f"Pot {n}", "price": n + 0.5} for n in range(2500)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    report = db.ingest(path, products, tags=["import"])
    [result] = report.files
    assert (result.status, result.rows, result.table, result.chunks) == ("added", 2500, "products", 0)
    assert db.count("products") == 2500
    assert db.lookup("PP-1234")[0]["price"] == 1234.5
    doc = db.get(result.document_id)
    assert doc["chunk_count"] == 0 and doc["tags"] == ["import"] and doc["content_type"] == "application/x-ndjson"
    assert doc["metadata"]["table"] == "products" and doc["metadata"]["rows"] == 2500
    again = db.ingest(path, products, tags=["import"]).files[0]
    assert (again.status, again.rows) == ("unchanged", 2500)


def test_csv_values_take_the_types_of_their_columns(db: Database, products: str, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text("product_code,name,price,stock,tags,category\n"
                    "PP-1,\"Pot, small\",4.5,3,\"[\"\"clay\"\"]\",\n"
                    "PP-2,Pot large,9,,[],pots\n\n", encoding="utf-8")
    result = db.ingest(path, products).files[0]
    assert (result.status, result.rows) == ("added", 2)
    small, large = db.lookup("PP-1")[0], db.lookup("PP-2")[0]
    assert (small["name"], small["price"], small["stock"], small["tags"], small["category"]) == (
        "Pot, small", 4.5, 3, ["clay"], None)
    assert (large["price"], large["stock"], large["category"]) == (9.0, 0, "pots")  # empty cell: the default


def test_a_json_array_and_a_single_object(db: Database, products: str, tmp_path: Path) -> None:
    (tmp_path / "many.json").write_text(json.dumps([{"product_code": "A", "name": "a", "price": 1},
                                                    {"product_code": "B", "name": "b", "price": 2}]))
    (tmp_path / "one.json").write_text(json.dumps({"product_code": "C", "name": "c", "price": 3}))
    report = db.ingest(tmp_path, products)
    assert [(Path(f.path).name, f.rows) for f in report.files] == [("many.json", 2), ("one.json", 1)]
    assert db.count("products") == 3


def test_an_invalid_row_names_its_line_and_its_batch_is_not_written(db: Database, products: str,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "products.jsonl"
    lines = [json.dumps({"product_code": f"P{n}", "name": "x", "price": 1}) for n in range(1500)]
    lines[1200] = json.dumps({"product_code": "BAD", "name": "x", "price": "free"})
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(IngestError, match=r"line 1201: .*price.* \(nothing of this batch was written; 1000 rows "
                                          r"were written before it\)"):
        db.ingest(path, products)
    assert db.count("products") == 1000 and db.count("documents") == 0  # the file is not marked as ingested


def test_records_need_a_table_and_bad_json_is_reported(db: Database, products: str, tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"product_code": "A", "name": "a", "price": 1}\n{oops\n')
    (tmp_path / "data.csv").write_text("product_code,name\nA,a,extra\n")
    skipped = db.ingest(tmp_path)
    assert {Path(f.path).name: f.status for f in skipped.files} == {"data.csv": "skipped", "rows.jsonl": "skipped"}
    assert "name the table for its rows" in skipped.files[0].reason
    failed = {Path(f.path).name: f.reason for f in db.ingest(tmp_path, products).files}
    assert failed["rows.jsonl"].startswith("invalid JSON on line 2")
    assert failed["data.csv"] == "line 2 has 3 values for 2 columns"
