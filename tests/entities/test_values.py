"""Values JSON cannot hold are refused by name, never changed silently (issue 18, item 7): NaN and ±Infinity,
sets, bytes, complex numbers, objects without a JSON form and integers beyond 64 bits, in declared,
undeclared, nested and list fields, through insert, insert_batch, update, upsert, insert_jsonl, edge
properties and `rem insert`. A refused row in a batch writes nothing and the error names its position."""

from __future__ import annotations

import datetime as dt
import enum
import io
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from rem_db import Database, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' `rem` runner
from cli_helpers import Rem

THINGS: dict[str, Any] = {
    "title": "things",
    "type": "object",
    "description": "Things with a number, a nested object and a list.",
    "properties": {
        "name": {"type": "string"},
        "weight": {"type": "number"},
        "meta": {"type": "object", "default": {}},
        "tags": {"type": "array", "default": []},
    },
    "required": ["name"],
    "key_field": "name",
}


@pytest.fixture
def things(db: Database) -> Database:
    db.register_schema(dict(THINGS))
    return db


def _refused(db: Database, row: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        db.insert("things", row)
    assert db.count("things") == 0  # nothing written
    return info.value


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"weight": NAN}, "weight", "NaN is not allowed in field 'weight'"),  # declared number field
    ({"weight": INF}, "weight", "Infinity is not allowed in field 'weight'"),
    ({"weight": -INF}, "weight", "-Infinity is not allowed in field 'weight'"),
    ({"score": NAN}, "score", "NaN is not allowed in field 'score'"),  # undeclared
    ({"meta": {"size": {"cm": INF}}}, "meta.size.cm", "Infinity is not allowed in field 'meta.size.cm'"),
    ({"tags": ["a", "b", NAN]}, "tags[2]", "NaN is not allowed in field 'tags[2]'"),
    ({"extra": [{"x": -INF}]}, "extra[0].x", "-Infinity is not allowed in field 'extra[0].x'"),
    ({"price": Decimal("NaN")}, "price", "NaN is not allowed in field 'price'"),
    ({"price": Decimal("1e400")}, "price", "Infinity is not allowed in field 'price' (Decimal 1E+400 is beyond"),
])
def test_nan_and_infinity_are_refused_everywhere(things: Database, row: dict[str, Any], field: str,
                                                 message: str) -> None:
    error = _refused(things, {"name": "x", **row})
    assert str(error).startswith(f"things: {message}")
    assert error.field == field and error.table == "things"


@pytest.mark.parametrize(("value", "words"), [
    ({1, 2}, ["field 'v' is a set", "store a list"]),
    (frozenset({"a"}), ["field 'v' is a frozenset", "store a list"]),
    (b"\x00\xff", ["field 'v' is bytes", "base64"]),
    (bytearray(b"ab"), ["field 'v' is bytearray", "base64"]),
    (memoryview(b"ab"), ["field 'v' is memoryview", "base64"]),
    (1 + 2j, ["field 'v' is a complex number ((1+2j))", "two numbers"]),
    (object(), ["field 'v' has type object, which has no JSON form"]),
    (range(3), ["field 'v' has type range, which has no JSON form"]),
])
def test_types_json_has_not_are_refused_naming_type_and_alternative(things: Database, value: Any,
                                                                    words: list[str]) -> None:
    for row, path in (({"v": value}, "v"), ({"meta": {"v": value}}, "meta.v"), ({"tags": [1, value]}, "tags[1]")):
        error = _refused(things, {"name": "x", **row})
        message = str(error).replace(f"field '{path}'", "field 'v'")
        assert all(w in message for w in words), message
        assert error.field == path


@pytest.mark.parametrize(("row", "field", "value"), [
    ({"big": 2**64}, "big", 2**64),
    ({"big": -2**63 - 1}, "big", -2**63 - 1),
    ({"meta": {"size": 10**30}}, "meta.size", 10**30),
    ({"tags": [1, 2, 2**70]}, "tags[2]", 2**70),
])
def test_integers_beyond_64_bits_name_the_field(things: Database, row: dict[str, Any], field: str,
                                                value: int) -> None:
    error = _refused(things, {"name": "x", **row})
    assert f"field '{field}' is {value}, outside the 64-bit range of stored integers" in str(error)
    assert error.field == field


def test_the_64_bit_range_itself_is_stored_exactly(things: Database) -> None:
    row = things.insert("things", {"name": "x", "low": -2**63, "high": 2**64 - 1, "meta": {"n": 2**63}})
    assert things.get(row["id"])["low"] == -2**63 and things.get(row["id"])["high"] == 2**64 - 1
    assert things.get(row["id"])["meta"] == {"n": 2**63}


def test_keys_and_text_must_be_json(things: Database) -> None:
    assert _refused(things, {"name": "x", "meta": {1: "a"}}).field == "meta"
    assert "object keys must be strings" in str(_refused(things, {"name": "x", "meta": {1: "a"}}))
    error = _refused(things, {"name": "x", "meta": {"t": "ok \ud800"}})
    assert "field 'meta.t' is not valid Unicode text (lone surrogate U+D800 at position 3)" in str(error)


class Colour(enum.Enum):
    RED = "red"


class Part(BaseModel):
    label: str
    at: dt.datetime


def test_what_already_worked_keeps_its_json_form(things: Database) -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    row = things.insert("things", {
        "name": "x", "weight": Decimal("2.5"), "when": dt.datetime(2025, 1, 2, 3, 4, 5), "day": dt.date(2025, 1, 2),
        "ref": ident, "colour": Colour.RED, "pair": (1, "a"), "part": Part(label="p", at=dt.datetime(2025, 1, 1)),
        "path": Path("/tmp/x"), "none": None, "ok": True,
    })
    stored = things.get(row["id"])
    assert stored["weight"] == 2.5 and stored["when"] == "2025-01-02T03:04:05+00:00" and stored["day"] == "2025-01-02"
    assert stored["ref"] == str(ident) and stored["colour"] == "red" and stored["pair"] == [1, "a"]
    assert stored["part"] == {"label": "p", "at": "2025-01-01T00:00:00+00:00"} and stored["path"] == "/tmp/x"
    assert stored["none"] is None and stored["ok"] is True


def test_a_refused_row_in_a_batch_writes_nothing_and_names_its_position(things: Database) -> None:
    rows = [{"name": "a"}, {"name": "b", "meta": {"w": 1.5}}, {"name": "c", "meta": {"w": NAN}}, {"name": "d"}]
    with pytest.raises(ValidationError) as info:
        things.insert_batch("things", rows)
    assert str(info.value).startswith("things row 3 (index 2): NaN is not allowed in field 'meta.w'")
    assert info.value.position == 2 and info.value.field == "meta.w"
    assert things.count("things") == 0


def test_update_and_upsert_are_checked_too(things: Database) -> None:
    row = things.insert("things", {"name": "a", "weight": 1.0})
    with pytest.raises(ValidationError, match="things: field 'tags' is a set"):
        things.update(row["id"], {"tags": {"x"}})
    with pytest.raises(ValidationError, match="NaN is not allowed in field 'weight'"):
        things.update(row["id"], {"weight": NAN})
    assert things.get(row["id"])["weight"] == 1.0 and things.get(row["id"])["tags"] == []

    class Thing(BaseModel):
        model_config = ConfigDict(json_schema_extra={"short_name": "things", "description": "Things."})
        name: str
        weight: float

    with pytest.raises(ValidationError, match="NaN is not allowed in field 'weight'"):
        things.upsert([Thing(name="a", weight=NAN)])
    assert things.get(row["id"])["weight"] == 1.0


def test_edge_properties_are_checked(things: Database) -> None:
    a, b = things.insert_batch("things", [{"name": "a"}, {"name": "b"}])
    with pytest.raises(ValidationError, match="NaN is not allowed in field 'weight'"):
        things.add_edge(a["id"], b["id"], "near", {"weight": NAN})
    with pytest.raises(ValidationError, match=r"field 'edges\[0\].properties.raw' is bytes"):
        things.insert("things", {"name": "c", "edges": [{"dst": a["id"], "rel_type": "r",
                                                         "properties": {"raw": b"x"}}]})
    assert things.edges(a["id"]) == [] and things.count("things") == 2


def test_insert_jsonl_keeps_big_integers_exact_and_names_the_line(things: Database) -> None:
    text = '{"name": "a", "n": 9223372036854775807}\n{"name": "b", "meta": {"n": 18446744073709551616}}\n'
    with pytest.raises(ValidationError) as info:
        things.insert_jsonl("things", io.StringIO(text), chunk_size=10)
    assert "line 2: things: field 'meta.n' is 18446744073709551616, outside the 64-bit range" in str(info.value)
    assert info.value.field == "meta.n" and things.count("things") == 0
    things.insert_jsonl("things", io.StringIO('{"name": "c", "n": 18446744073709551615, "id_text": '
                                              '"12345678901234567890123"}\n'))
    stored = things.query("SELECT n, id_text FROM things")
    assert stored == [{"n": 18446744073709551615, "id_text": "12345678901234567890123"}]


def test_rem_insert_names_the_field_without_a_traceback(tmp_path: Path) -> None:
    rem = Rem.in_tmp(tmp_path)
    with Database(rem.db_path) as db:
        db.register_schema(dict(THINGS))
    big = rem.fails("insert", "things", '{"name": "a", "meta": {"size": 18446744073709551616}}')
    assert big.err == ("error: things: field 'meta.size' is 18446744073709551616, outside the 64-bit range of "
                       "stored integers (-9223372036854775808 to 18446744073709551615); store it as a string (or a "
                       "float, losing precision)\n")
    batch = rem.fails("insert", "things", "--batch", input='{"name": "a"}\n{"name": "b", "tags": [1, '
                                                          '-99999999999999999999]}\n')
    assert "line 2: things: field 'tags[1]' is -99999999999999999999" in batch.err
    infinite = rem.fails("insert", "things", '{"name": "a", "weight": 1e999}')
    assert "invalid JSON" in infinite.err and "infinity" in infinite.err
    assert rem.count("things") == 0
