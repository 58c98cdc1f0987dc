"""Every write is validated against its table's JSON Schema; errors name the row, the field and the rule."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from core_helpers import id16, product
from rem_db import Database, ValidationError


class Address(BaseModel):
    street: str
    zip: int


class Customer(BaseModel):
    """Customers with a nested address ($defs / $ref)."""

    email: str = Field(json_schema_extra={"key_field": True})
    age: int = Field(ge=0)
    address: Address
    tier: str = Field(default="basic", pattern="^(basic|gold)$")


@pytest.mark.parametrize(("patch", "field", "rule"), [
    ({"price": "abc"}, "price", "type"),
    ({"stock": 1.5}, "stock", "type"),
    ({"tags": ["ok", 3]}, "tags", "type"),
    ({"tags": "not-a-list"}, "tags", "type"),
    ({"name": None}, "name", "type"),
    ({"released_at": "last tuesday"}, "released_at", ""),
])
def test_wrong_types_name_the_field(db: Database, products: str, patch: dict, field: str, rule: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.insert(products, {**product("W-1"), **patch})
    message = str(err.value)
    assert "products" in message and field in message and rule in message
    assert db.count(products) == 0 and db.lookup("W-1") == []


@pytest.mark.parametrize("missing", ["product_code", "name", "price"])
def test_missing_required_field_is_named(db: Database, products: str, missing: str) -> None:
    row = product("REQ-1")
    del row[missing]
    with pytest.raises(ValidationError) as err:
        db.insert(products, row)
    assert missing in str(err.value) and "required" in str(err.value)
    assert db.count(products) == 0


def test_pydantic_constraints_and_nested_refs_are_enforced(db: Database) -> None:
    db.register_schema(Customer)
    good = {"email": "a@x.org", "age": 30, "address": {"street": "Main", "zip": 12345}}
    row = db.insert("customer", good)
    assert row["tier"] == "basic"
    bad_cases = [
        ({**good, "address": {"street": "Main", "zip": "12345"}}, "zip"),
        ({**good, "address": {"street": "Main"}}, "zip"),
        ({**good, "age": -1}, "age"),
        ({**good, "tier": "platinum"}, "tier"),
    ]
    for data, field in bad_cases:
        with pytest.raises(ValidationError) as err:
            db.insert("customer", {**data, "email": "b@x.org"})
        assert field in str(err.value), str(err.value)
    assert db.count("customer") == 1 and db.lookup("b@x.org") == []


def test_a_bad_row_737_of_1000_fails_the_whole_batch(db: Database, products: str) -> None:
    db.insert(products, product("EXISTING", price=1))
    rows = [product(f"BATCH-{n:04d}", price=n, category="bulk") for n in range(1, 1001)]
    rows[736]["price"] = "abc"
    with pytest.raises(ValidationError) as err:
        db.insert_batch(products, rows)
    message = str(err.value)
    assert "row 737" in message and "price" in message
    assert "row 736 " not in message and "row 738" not in message
    assert db.count(products) == 1
    assert db.lookup("BATCH-0001") == [] and db.lookup("BATCH-1000") == []
    assert db.index.equal(db.schemas.get(products), "category", "bulk") == []
    # the same batch, fixed, goes in completely
    rows[736]["price"] = 737
    written = db.insert_batch(products, rows)
    assert len(written) == 1000 and db.count(products) == 1001
    assert len(db.index.equal(db.schemas.get(products), "category", "bulk")) == 1000
    assert db.lookup("BATCH-0737")[0]["price"] == 737


def test_batch_with_bad_row_does_not_touch_rows_it_would_upsert(db: Database, products: str) -> None:
    existing = db.insert(products, product("KEEP", price=1, notes="original"))
    with pytest.raises(ValidationError):
        db.insert_batch(products, [product("KEEP", price=2), product("NEW", price="x")])
    assert db.get(existing["id"]) == existing
    assert db.index.equal(db.schemas.get(products), "price", 1) == [id16(existing)]


def test_single_insert_errors_have_no_row_number(db: Database, products: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.insert(products, {**product("S-1"), "price": "x"})
    assert "row" not in str(err.value)


def test_empty_batch_is_a_no_op(db: Database, products: str) -> None:
    assert db.insert_batch(products, []) == []
    assert db.count(products) == 0


def test_batch_error_carries_table_position_and_field(tmp_path) -> None:
    from rem_db import Database, ValidationError

    schema = {"title": "gauges", "description": "Gauges.", "type": "object",
              "properties": {"code": {"type": "string"}, "reading": {"type": "number"}},
              "required": ["code"], "key_field": "code"}
    with Database(tmp_path / "db") as db:
        db.register_schema(schema)
        rows = [{"code": f"g{i}", "reading": i} for i in range(10)]
        rows[6]["reading"] = "high"
        try:
            db.insert_batch("gauges", rows)
        except ValidationError as exc:
            assert (exc.table, exc.position, exc.field) == ("gauges", 6, "reading")
            assert "row 7 (index 6)" in str(exc) and "row" not in exc.detail
        else:
            raise AssertionError("the bad row was accepted")
        rows[6] = {"reading": 1.0}
        try:
            db.insert_batch("gauges", rows)
        except ValidationError as exc:
            assert (exc.position, exc.field) == (6, "code")
        assert db.count("gauges") == 0
