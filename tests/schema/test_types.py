"""One resolution of JSON-Schema field types (schema/types.py): Pydantic models ($defs/$ref, Optional, enums,
nested and recursive models) resolve to the right FieldTypes, and the export, the SQL binder, CSV ingest and
the schema's timestamp fields all read them from there."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Any, Literal, Optional

import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, Field

from rem_db import Database, QueryError, SchemaError
from rem_db.export.arrow_schema import property_column
from rem_db.schema.model import TableSchema
from rem_db.schema.types import ANY, FieldType, field_type, resolve, type_of


class Colour(enum.StrEnum):
    red = "red"
    green = "green"


class Level(enum.IntEnum):
    low = 1
    high = 2


class Author(BaseModel):
    name: str
    born: Optional[dt.date] = None  # noqa: UP045 - the Optional spelling is what users write


class Node(BaseModel):
    label: str
    children: list[Node] = []


class Review(BaseModel):
    """Reviews of books."""

    title: str = Field(json_schema_extra={"key_field": True})
    subtitle: Optional[str] = None  # noqa: UP045
    author: Author
    editor: Optional[Author] = None  # noqa: UP045
    reviewers: list[Author] = []
    colour: Colour = Colour.red
    level: Optional[Level] = None  # noqa: UP045
    published: dt.datetime
    updated: dt.datetime | None = None
    counts: dict[str, int] = {}
    scores: Optional[list[float]] = None  # noqa: UP045
    kind: Literal["book", "paper"] = "book"
    tree: Optional[Node] = None  # noqa: UP045
    pages: int = 0


SCHEMA = Review.model_json_schema()

# field -> (display, nullable, Arrow type of its exported column)
EXPECTED = {
    "title": ("string", False, "string"),
    "subtitle": ("string | null", True, "string"),
    "author": ("object", False, "string"),
    "editor": ("object | null", True, "string"),
    "reviewers": ("array<object>", False, "string"),
    "colour": ("string", False, "string"),
    "level": ("integer | null", True, "int64"),
    "published": ("string(date-time)", False, "timestamp[us, tz=UTC]"),
    "updated": ("string(date-time) | null", True, "timestamp[us, tz=UTC]"),
    "counts": ("object", False, "string"),
    "scores": ("array<number> | null", True, "list<item: double>"),
    "kind": ("string", False, "string"),
    "tree": ("object | null", True, "string"),
    "pages": ("integer", False, "int64"),
}


def ft(path: str) -> FieldType:
    found = field_type(SCHEMA, path)
    assert found is not None, path
    return found


# -- the types of a Pydantic model ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_field_of_a_pydantic_model_resolves(name: str) -> None:
    display, nullable, arrow = EXPECTED[name]
    found = ft(name)
    assert (found.display, found.nullable) == (display, nullable)
    assert str(property_column(SCHEMA, name, SCHEMA["properties"][name]).arrow_type()) == arrow


def test_optional_scalars_enums_and_datetimes() -> None:
    assert ft("subtitle").types == {"string"} and ft("subtitle").json_types == {"string", "null"}
    assert ft("colour").enum == ("red", "green") and ft("colour").types == {"string"}
    assert ft("level").enum == (1, 2) and ft("level").nullable
    assert ft("kind").enum == ("book", "paper")
    assert ft("published").is_datetime and ft("published").format == "date-time"
    assert ft("updated").is_datetime and ft("updated").format == "date-time" and ft("updated").nullable
    assert not ft("title").is_datetime and ft("title").enum is None
    assert ft("author.born").format == "date" and not ft("author.born").is_datetime


def test_nested_models_through_ref_optional_and_lists() -> None:
    assert set(ft("author").properties) == {"name", "born"}
    assert ft("author.name") == FieldType(frozenset({"string"}))
    assert ft("editor.name") == ft("author.name")  # through anyOf [$ref, null]
    assert field_type(SCHEMA, ("editor", "born")) == ft("author.born")
    reviewer = ft("reviewers").items
    assert reviewer is not None and reviewer.types == {"object"} and set(reviewer.properties) == {"name", "born"}
    assert ft("scores").items == FieldType(frozenset({"number"}))
    assert ft("counts").types == {"object"} and ft("counts").properties == {}
    assert field_type(SCHEMA, "author.nope") is None and field_type(SCHEMA, "nope") is None
    assert field_type(SCHEMA, "title.length") is None  # a string has no properties


def test_a_recursive_model_resolves_on_demand() -> None:
    tree = ft("tree")
    children = tree.properties["children"]
    assert children.display == "array<object>"
    assert children.items is not None and children.items.properties["children"].display == "array<object>"
    assert ft("tree.children") == children


# -- hand-written schemas ---------------------------------------------------------------------------------
def test_refs_follow_defs_and_definitions_and_name_a_dangling_one() -> None:
    root = {"$defs": {"A": {"$ref": "#/definitions/B"}},
            "definitions": {"B": {"type": ["integer", "null"]}, "a/b": {"type": "boolean"}}}
    assert resolve({"$ref": "#/$defs/A"}, root) == {"type": ["integer", "null"]}
    assert type_of({"$ref": "#/$defs/A"}, root).display == "integer | null"
    assert type_of({"$ref": "#/definitions/a~1b"}, root).types == {"boolean"}
    assert resolve({"type": "string"}, root) == {"type": "string"}
    with pytest.raises(SchemaError, match="'#/\\$defs/Missing' points to nothing"):
        type_of({"$ref": "#/$defs/Missing"}, root)
    with pytest.raises(SchemaError, match="reference loop"):
        resolve({"$ref": "#/$defs/L"}, {"$defs": {"L": {"$ref": "#/$defs/L"}}})
    assert type_of({"$ref": "other.json#/X"}, root) == ANY  # another document: unconstrained


def test_type_lists_enums_consts_and_unions() -> None:
    assert type_of({"type": ["string", "null"], "format": "date-time"}, {}).is_datetime
    assert type_of({"enum": ["a", 1, None]}, {}).display == "string | integer | null"
    assert type_of({"const": True}, {}) == FieldType(frozenset({"boolean"}), enum=(True,))
    assert type_of({"anyOf": [{"type": "integer"}, {"type": "number"}]}, {}).types == {"integer", "number"}
    mixed = type_of({"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}, {})
    assert mixed.is_datetime and mixed.format is None and mixed.types == {"string", "integer"}
    assert type_of({"anyOf": [{"type": "string"}, {}]}, {}).types is None
    assert type_of({}, {}).display == "any" and type_of({"type": "null"}, {}).display == "null"
    assert type_of({"type": "array"}, {}).display == "array" and type_of({"type": "array"}, {}).items == ANY


# -- every user reads the same types ------------------------------------------------------------------------
def test_timestamp_fields_of_a_schema_come_from_the_types() -> None:
    raw = {**SCHEMA, "properties": {**SCHEMA["properties"], "due": {"$ref": "#/$defs/When"}},
           "$defs": {**SCHEMA["$defs"], "When": {"type": "string", "format": "date-time"}}}
    assert TableSchema.from_json_schema(raw).timestamp_fields == {"published", "updated", "due"}


@pytest.fixture
def reviews(db: Database) -> list[dict[str, Any]]:
    db.register_schema(Review)
    rows = [
        Review(title="One", author=Author(name="Ann", born=dt.date(1970, 1, 2)), editor=Author(name="Ed"),
               reviewers=[Author(name="Rae")], colour=Colour.green, level=Level.high,
               published=dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC), counts={"likes": 3}, scores=[4.5, 3.0],
               tree=Node(label="root", children=[Node(label="leaf")]), pages=120),
        Review(title="Two", author=Author(name="Bo"), published=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
    ]
    return db.insert_batch("review", [r.model_dump(mode="json") for r in rows])


def test_pydantic_rows_export_to_parquet_with_the_resolved_types(db: Database, reviews: list[dict[str, Any]],
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "review.parquet"
    assert db.export("review", output=out)["rows"] == 2
    schema = pq.read_schema(out)
    written = {name: str(schema.field(name).type).replace("element:", "item:") for name in EXPECTED}
    assert written == {n: e[2] for n, e in EXPECTED.items()}  # Parquet names list elements "element"
    table = pq.read_table(out).to_pylist()
    one = next(r for r in table if r["title"] == "One")
    assert one["level"] == 2 and one["scores"] == [4.5, 3.0] and one["colour"] == "green"
    assert one["published"] == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    assert schema.field("author").metadata == {b"rem.type": b"json"}


def test_sql_binds_nested_paths_through_refs_and_optional(db: Database, reviews: list[dict[str, Any]]) -> None:
    assert [r["title"] for r in db.query("SELECT * FROM review WHERE author.name = 'Ann'")] == ["One"]
    assert [r["title"] for r in db.query("SELECT * FROM review WHERE editor.name = ?", ["Ed"])] == ["One"]
    assert [r["title"] for r in db.query("SELECT * FROM review WHERE updated IS NULL ORDER BY title")] == [
        "One", "Two"]
    assert [r["title"] for r in db.query("SELECT * FROM review WHERE published > '2024-12-31'")] == ["Two"]
    for bad in ("author.name = 5", "editor.name = 5", "level = 'high'", "published > 'yesterday'"):
        with pytest.raises(QueryError):
            db.query(f"SELECT * FROM review WHERE {bad}")


def test_csv_cells_take_the_types_behind_refs(db: Database, tmp_path: Path) -> None:
    db.register_schema(Review)
    path = tmp_path / "reviews.csv"
    path.write_text('title,author,level,published,scores\n'
                    'Three,"{""name"": ""Cy""}",1,2024-02-03T04:05:06Z,"[1, 2.5]"\n', encoding="utf-8")
    assert db.ingest(path, "review").files[0].rows == 1
    [row] = db.query("SELECT * FROM review WHERE title = 'Three'")
    assert (row["author"], row["level"], row["scores"]) == ({"name": "Cy"}, 1, [1, 2.5])
