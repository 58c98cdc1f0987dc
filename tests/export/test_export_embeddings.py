"""Vectors in exports: ``fixed_size_list<float32>[dim]`` in Parquet (DuckDB ``FLOAT[dim]``), JSON arrays in CSV
and JSONL, null where an entity has no vector. Uses the real local model on a few rows."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from export_helpers import duck, duck_types, parquet_rows

from rem_db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "embeddings"))  # the fake OpenAI server
from fake_openai import FakeOpenAI

NOTES = {
    "title": "notes", "type": "object", "description": "Embedded notes.",
    "properties": {"key": {"type": "string"}, "body": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    "required": ["key"], "embedding_fields": ["body"],
}
TEXTS = ["Ferns like humid, shaded rooms.", "Cacti need sun and little water.", "Orchids bloom in winter 🌸."]


@pytest.fixture
def notes(db: Database) -> dict[str, list[float] | None]:
    """Three embedded notes and one without text (no vector); returns key -> stored vector."""
    db.register_schema(NOTES)
    db.insert_batch("notes", [{"key": f"k{n}", "body": t} for n, t in enumerate(TEXTS)] + [{"key": "empty"}])
    return {r["key"]: db.get(r["id"], include_embeddings=True).get("embedding") for r in db.rows("notes")}


def test_parquet_vectors_are_fixed_size_float32(db: Database, notes: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "notes.parquet"
    summary = db.export("notes", output=out, with_embeddings=True)
    assert summary["with_embeddings"] and summary["columns"][-1] == {
        "name": "embedding", "type": "fixed_size_list<item: float>[384]"}
    schema, rows = parquet_rows(out)
    assert schema.names[-1] == "embedding"
    assert schema.field("embedding").type == pa.list_(pa.float32(), 384)
    got = {r["key"]: r["embedding"] for r in rows}
    assert got["empty"] is None and notes["empty"] is None
    for key in ("k0", "k1", "k2"):
        assert got[key] == notes[key]  # float32 values, exactly as stored
        assert abs(float(np.linalg.norm(np.array(got[key], dtype=np.float32))) - 1) < 1e-5
    # Parquet has no fixed-size list: DuckDB sees FLOAT[] (pyarrow, Polars and Spark read the Arrow schema kept
    # in the file); a cast gives DuckDB's FLOAT[384] array type
    assert duck_types(f"read_parquet('{out}')")["embedding"] == "FLOAT[]"
    sims = duck(f"SELECT a.key AS a, b.key AS b, "
                f"array_cosine_similarity(a.embedding::FLOAT[384], b.embedding::FLOAT[384]) AS s "
                f"FROM read_parquet('{out}') a, read_parquet('{out}') b "
                f"WHERE a.embedding IS NOT NULL AND b.embedding IS NOT NULL AND a.key < b.key").to_pylist()
    for pair in sims:
        want = float(np.dot(notes[pair["a"]], notes[pair["b"]]))
        assert abs(pair["s"] - want) < 1e-5
    assert [c["name"] for c in db.export("notes", output=out)["columns"]][-2:] == ["body", "extra"]  # no vectors


def test_csv_and_jsonl_vectors_are_json_arrays(db: Database, notes: dict[str, Any], tmp_path: Path) -> None:
    db.export("notes", output=tmp_path / "n.csv", with_embeddings=True)
    with (tmp_path / "n.csv").open(newline="", encoding="utf-8") as f:
        cells = {r["key"]: r["embedding"] for r in csv.DictReader(f)}
    assert cells["empty"] == ""
    db.export("notes", output=tmp_path / "n.jsonl", with_embeddings=True)
    lines = {r["key"]: r["embedding"] for r in map(orjson.loads, (tmp_path / "n.jsonl").read_bytes().splitlines())}
    assert lines["empty"] is None
    for key in ("k0", "k1", "k2"):
        want = np.array(notes[key], dtype=np.float32)
        assert np.array_equal(np.array(orjson.loads(cells[key]), dtype=np.float32), want)
        assert np.array_equal(np.array(lines[key], dtype=np.float32), want)


def test_all_tables_add_vectors_where_there_are_some(db: Database, notes: dict[str, Any], tmp_path: Path) -> None:
    db.register_schema({"title": "plain", "description": "No vectors.", "type": "object",
                        "properties": {"name": {"type": "string"}}})
    db.insert("plain", {"name": "x"})
    manifest = db.export(output=tmp_path / "all", all_tables=True, with_embeddings=True)
    tables = {t["table"]: t for t in manifest["tables"]}
    assert tables["notes"]["with_embeddings"] and not tables["plain"]["with_embeddings"]
    assert [c["name"] for c in tables["plain"]["columns"]][-2:] == ["name", "extra"]
    rows = parquet_rows(tmp_path / "all" / "notes.parquet")[1]
    assert {r["key"]: r["embedding"] for r in rows} == notes


@pytest.fixture
def alt_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setenv("P8_OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", server.api_key)
        monkeypatch.setenv("P8_ALT_EMBEDDING", "openai:text-embedding-3-small")
        yield server


def test_alternative_embedding_column(alt_server: FakeOpenAI, db_path: Path, tmp_path: Path) -> None:
    db = Database(db_path)  # settings are read at open: after the fixture set P8_ALT_EMBEDDING
    db.register_schema(NOTES)
    row = db.insert("notes", {"key": "k", "body": TEXTS[0]})
    out = tmp_path / "alt.parquet"
    db.export("notes", output=out, with_embeddings=True)
    schema, rows = parquet_rows(out)
    assert schema.names[-2:] == ["embedding", "embedding_alt"]
    assert schema.field("embedding_alt").type == pa.list_(pa.float32(), 1536)
    stored = db.get(row["id"], include_embeddings=True)
    assert rows[0]["embedding"] == stored["embedding"] and rows[0]["embedding_alt"] == stored["embedding_alt"]
    db.close()
