"""The internal field-index read API (SPEC §4): equality, ranges, ordered scans, system timestamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from core_helpers import id16, product
from rem_db import Database


@pytest.fixture
def catalog(db: Database, products: str) -> dict[str, dict[str, Any]]:
    rows = {
        "neg": product("neg", price=-5.5, stock=-2, category="tools", tags=["sale", "red"],
                       released_at="2024-01-01T10:00:00+02:00"),  # 08:00Z
        "zero": product("zero", price=0, stock=0, category="toys", tags=["red", "red"],
                        released_at="2024-01-01T09:00:00Z"),
        "ten": product("ten", price=10, stock=10, category="tools", tags=[],
                       released_at="2024-01-01T05:00:00-05:00"),  # 10:00Z
        "tenf": product("tenf", price=10.0, stock=11, category="a:b/c d", released_at="2023-12-31T23:59:59.999999Z"),
        "big": product("big", price=1e12, stock=123456789012, tags=["sale"]),
        "frac": product("frac", price=2.25, stock=3, category="日本"),
    }
    inserted = db.insert_batch(products, list(rows.values()))
    return {name: row for name, row in zip(rows, inserted, strict=True)}


def ids(catalog: dict[str, dict[str, Any]], *names: str) -> list[bytes]:
    return [id16(catalog[n]) for n in names]


def values_and_names(pairs: Any, catalog: dict[str, dict[str, Any]]) -> list[tuple[Any, str]]:
    by_id = {id16(row): name for name, row in catalog.items()}
    return [(value, by_id[i]) for value, i in pairs]


def test_equal_on_strings_numbers_and_special_characters(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    assert sorted(db.index.equal(schema, "category", "tools")) == sorted(ids(catalog, "neg", "ten"))
    assert db.index.equal(schema, "category", "a:b/c d") == ids(catalog, "tenf")
    assert db.index.equal(schema, "category", "a:b") == []  # a prefix is not a match
    assert db.index.equal(schema, "category", "日本") == ids(catalog, "frac")
    assert sorted(db.index.equal(schema, "price", 10)) == sorted(ids(catalog, "ten", "tenf"))
    assert sorted(db.index.equal(schema, "price", 10.0)) == sorted(ids(catalog, "ten", "tenf"))
    assert db.index.equal(schema, "price", "10") == []  # strings and numbers do not mix
    assert db.index.equal(schema, "stock", 123456789012) == ids(catalog, "big")
    assert db.index.equal(schema, "category", "nothing") == []


def test_missing_or_null_fields_are_indexed_as_null(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    assert db.index.equal(schema, "category", None) == ids(catalog, "big")
    assert sorted(db.index.equal(schema, "released_at", None)) == sorted(ids(catalog, "big", "frac"))
    # an empty list has no elements: it is indexed as null too
    assert sorted(db.index.equal(schema, "tags", None)) == sorted(ids(catalog, "ten", "tenf", "frac"))


def test_list_fields_are_indexed_per_element(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    assert sorted(db.index.equal(schema, "tags", "red")) == sorted(ids(catalog, "neg", "zero"))  # "zero" once
    assert sorted(db.index.equal(schema, "tags", "sale")) == sorted(ids(catalog, "neg", "big"))
    assert values_and_names(db.index.range(schema, "tags", "red", "red"), catalog).count(("red", "zero")) == 1


def test_numeric_range_bounds(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")

    def names(**kw: Any) -> list[str]:
        return [n for _, n in values_and_names(db.index.range(schema, "price", **kw), catalog)]

    assert names(lo=0, hi=10) == ["zero", "frac", *sorted(["ten", "tenf"], key=lambda n: id16(catalog[n]))]
    assert set(names(lo=0, hi=10, lo_inclusive=False, hi_inclusive=False)) == {"frac"}
    assert set(names(lo=0, hi=10, lo_inclusive=False)) == {"frac", "ten", "tenf"}
    assert set(names(lo=0, hi=10, hi_inclusive=False)) == {"zero", "frac"}
    assert names(lo=2.25, hi=2.25) == ["frac"]
    assert names(lo=2.25, hi=2.25, lo_inclusive=False) == []
    assert names(lo=5) == [*sorted(["ten", "tenf"], key=lambda n: id16(catalog[n])), "big"]
    assert names(hi=0) == ["neg", "zero"]
    assert names(hi=0, hi_inclusive=False) == ["neg"]
    assert names(lo=-100, hi=-1) == ["neg"]
    assert names(lo=100, hi=1) == []
    assert names(lo=0, hi=10, reverse=True) == list(reversed(names(lo=0, hi=10)))


def test_range_values_come_back_typed_and_ordered(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    values = [v for v, _ in db.index.range(schema, "stock")]
    assert values == [-2, 0, 3, 10, 11, 123456789012]
    assert all(isinstance(v, int) for v in values)
    prices = [v for v, _ in db.index.range(schema, "price", reverse=True)]
    assert prices == [1e12, 10, 10, 2.25, 0, -5.5]


def test_string_ranges_stay_within_strings(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    got = [v for v, _ in db.index.range(schema, "category", lo="a")]
    assert got == ["a:b/c d", "tools", "tools", "toys", "日本"]
    assert [v for v, _ in db.index.range(schema, "category", "toola", "toolz")] == ["tools", "tools"]
    assert [v for v, _ in db.index.range(schema, "category", hi="tools", hi_inclusive=False)] == ["a:b/c d"]


def test_user_timestamps_range_chronologically_across_offsets(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    pairs = values_and_names(db.index.range(schema, "released_at"), catalog)
    assert [n for _, n in pairs] == ["tenf", "neg", "zero", "ten"]
    assert [v for v, _ in pairs] == ["2023-12-31T23:59:59.999999Z", "2024-01-01T08:00:00.000000Z",
                                     "2024-01-01T09:00:00.000000Z", "2024-01-01T10:00:00.000000Z"]
    # bounds given in any offset mean the same instant
    window = db.index.range(schema, "released_at", "2024-01-01T09:00:00+01:00", "2024-01-01T11:00:00+02:00")
    assert [n for _, n in values_and_names(window, catalog)] == ["neg", "zero"]
    assert db.index.equal(schema, "released_at", "2024-01-01T08:00:00Z") == ids(catalog, "neg")
    after = db.index.range(schema, "released_at", lo="2024-01-01T09:00:00Z", lo_inclusive=False)
    assert [n for _, n in values_and_names(after, catalog)] == ["ten"]


def test_scan_orders_nulls_first_and_last_when_reversed(db: Database, catalog: dict) -> None:
    schema = db.schemas.get("products")
    forward = [v for v, _ in db.index.scan(schema, "category")]
    assert forward == [None, "a:b/c d", "tools", "tools", "toys", "日本"]
    assert [v for v, _ in db.index.scan(schema, "category", reverse=True)] == list(reversed(forward))
    # a range without bounds covers non-null values only
    assert None not in [v for v, _ in db.index.range(schema, "category")]


def test_equality_on_large_integers_is_exact(db: Database, products: str) -> None:
    """64-bit integers are valid JSON integers; an equality read must not return a neighbouring value."""
    schema = db.schemas.get(products)
    low, high = db.insert_batch(products, [product("big-1", stock=2**53), product("big-2", stock=2**53 + 1)])
    assert db.index.equal(schema, "stock", 2**53 + 1) == [id16(high)]
    assert db.index.equal(schema, "stock", 2**53) == [id16(low)]
    assert [v for v, _ in db.index.range(schema, "stock", lo=2**53)] == [2**53, 2**53 + 1]


def test_mixed_types_in_one_field_order_by_type(db: Database, notes: str) -> None:
    db.register_schema({"title": "mixed", "description": "Mixed values.", "type": "object",
                        "properties": {"v": {}}, "indexed_fields": ["v"]})
    values = ["b", 2, None, True, "a", -1, False, 1.5]
    db.insert_batch("mixed", [{"v": v} for v in values])
    schema = db.schemas.get("mixed")
    assert [v for v, _ in db.index.scan(schema, "v")] == [None, False, True, -1, 1.5, 2, "a", "b"]
    assert [v for v, _ in db.index.range(schema, "v", lo=0)] == [1.5, 2]
    assert [v for v, _ in db.index.range(schema, "v", hi="b", hi_inclusive=False)] == ["a"]
    assert len(db.index.equal(schema, "v", True)) == 1 and len(db.index.equal(schema, "v", 1)) == 0


def test_system_fields_are_indexed(db: Database, products: str) -> None:
    schema = db.schemas.get(products)
    first = db.insert_batch(products, [product(f"early-{n}") for n in range(3)])
    time.sleep(0.002)
    middle = datetime.now(UTC).isoformat()
    time.sleep(0.002)
    second = db.insert_batch(products, [product(f"late-{n}") for n in range(2)])
    late = sorted(id16(r) for r in second)
    assert sorted(i for _, i in db.index.range(schema, "created_at", lo=middle)) == late
    assert sorted(i for _, i in db.index.range(schema, "created_at", hi=middle)) == sorted(id16(r) for r in first)
    # modified_at moves with an update; created_at does not
    time.sleep(0.002)
    after_update = datetime.now(UTC).isoformat()
    time.sleep(0.002)
    db.update(first[0]["id"], {"price": 99})
    assert [i for _, i in db.index.range(schema, "modified_at", lo=after_update)] == [id16(first[0])]
    assert [i for _, i in db.index.range(schema, "created_at", lo=after_update)] == []
    # deleted_at: null while live, a timestamp once soft-deleted
    db.delete(first[1]["id"])
    assert [i for _, i in db.index.range(schema, "deleted_at", lo=after_update)] == [id16(first[1])]
    assert id16(first[1]) not in db.index.equal(schema, "deleted_at", None)


def test_entity_type_is_answered_by_the_field_index(db: Database, products: str) -> None:
    """SPEC §4: field indexes exist for the system field entity_type (the query engine's table filter)."""
    schema = db.schemas.get(products)
    rows = db.insert_batch(products, [product(f"et-{n}") for n in range(3)])
    db.insert("resources", {"uri": "u://other-table", "content": "c"})
    assert sorted(db.index.equal(schema, "entity_type", "products")) == sorted(id16(r) for r in rows)
    assert db.index.equal(schema, "entity_type", "resources") == []


def test_tables_with_similar_names_do_not_share_index_entries(db: Database) -> None:
    for name in ("item", "items", "item_s"):
        db.register_schema({"title": name, "description": "x", "type": "object",
                            "properties": {"n": {"type": "integer"}}, "indexed_fields": ["n"]})
    db.insert_batch("item", [{"n": 1}])
    db.insert_batch("items", [{"n": 1}, {"n": 2}])
    assert (db.count("item"), db.count("items"), db.count("item_s")) == (1, 2, 0)
    assert len(db.index.equal(db.schemas.get("item"), "n", 1)) == 1
    assert [len(list(db.rows(t))) for t in ("item", "items", "item_s")] == [1, 2, 0]


def test_rows_and_count_cover_large_tables(db: Database, products: str) -> None:
    db.insert_batch(products, [product(f"L-{n:05d}", price=n) for n in range(2500)])
    assert db.count(products) == 2500
    rows = list(db.rows(products))
    assert len(rows) == 2500 and len({r["id"] for r in rows}) == 2500
    schema = db.schemas.get(products)
    assert sum(1 for _ in db.index.range(schema, "price", 1000, 1999)) == 1000


def test_boolean_ranges_with_one_bound_cover_both_booleans(db: Database) -> None:
    """false < true: a one-sided range on a boolean field sees both values (they are one type)."""
    db.register_schema({"title": "flags", "description": "Rows with a boolean flag.", "type": "object",
                        "properties": {"name": {"type": "string"}, "on": {"type": ["boolean", "null"]}},
                        "indexed_fields": ["on"]})
    rows = db.insert_batch("flags", [{"name": "a", "on": False}, {"name": "b", "on": True},
                                     {"name": "c", "on": None}, {"name": "d", "on": True}])
    names = {id16(r): r["name"] for r in rows}
    schema = db.schemas.get("flags")

    def got(**bounds: Any) -> list[str]:  # in value order; rows with equal values in id order
        pairs = list(db.index.range(schema, "on", **bounds))
        assert [v for v, _ in pairs] == sorted(v for v, _ in pairs)
        return sorted(names[i] for _, i in pairs)

    assert got(lo=False) == ["a", "b", "d"]
    assert got(lo=False, lo_inclusive=False) == ["b", "d"]
    assert got(hi=True) == ["a", "b", "d"]
    assert got(hi=True, hi_inclusive=False) == ["a"]
    assert got(lo=True) == ["b", "d"]
    assert [v for v, _ in db.index.range(schema, "on", reverse=True)] == [True, True, False]
