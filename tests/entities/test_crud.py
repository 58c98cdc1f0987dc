"""Insert, upsert, get, update, soft and hard delete (SPEC §1), with the index entries they leave behind."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import pytest
from pydantic import BaseModel, Field

from core_helpers import edge_keys_touching, field_index_keys_of, id16, key_index_values_of, product
from rem_db import Database, NotFoundError, ValidationError
from rem_db.schema.model import SYSTEM_FIELDS


def _iso(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


# -- insert / get ----------------------------------------------------------------------------------
def test_insert_returns_a_flat_entity_with_system_fields(db: Database, products: str) -> None:
    row = db.insert(products, product("A-1", price=3.5, tags=["x"], notes="hello"))
    assert set(SYSTEM_FIELDS) <= set(row)
    assert row["entity_type"] == "products"
    assert (row["product_code"], row["price"], row["tags"], row["notes"]) == ("A-1", 3.5, ["x"], "hello")
    assert row["deleted_at"] is None and row["edges"] == []
    assert _iso(row["created_at"]) == _iso(row["modified_at"])
    assert "data" not in row and "embedding" not in row
    assert db.get(row["id"]) == row
    assert db.get(uuid.UUID(row["id"])) == row


def test_caller_supplied_timestamps_are_ignored(db: Database, products: str) -> None:
    row = db.insert(products, {**product("A-2"), "created_at": "1999-01-01T00:00:00Z", "deleted_at": "x"})
    assert row["created_at"] != "1999-01-01T00:00:00Z"
    assert row["deleted_at"] is None


def test_insert_pydantic_instance_and_upsert_models(db: Database) -> None:
    class Gadget(BaseModel):
        """Gadgets."""

        sku: str = Field(json_schema_extra={"key_field": True})
        weight: float

    first = db.upsert(Gadget(sku="G-1", weight=1.0))
    assert first["entity_type"] == "gadget"
    both = db.upsert([Gadget(sku="G-1", weight=2.0), Gadget(sku="G-2", weight=3.0)])
    assert [r["sku"] for r in both] == ["G-1", "G-2"]
    assert both[0]["id"] == first["id"]
    assert db.get(first["id"])["weight"] == 2.0
    inserted = db.insert("gadget", Gadget(sku="G-3", weight=4.5))
    assert db.get(inserted["id"])["weight"] == 4.5
    assert db.count("gadget") == 3


def test_upsert_pydantic_model_with_naive_datetime(db: Database) -> None:
    """A model instance Pydantic accepts (naive datetime) must be storable; naive times are taken as UTC."""

    class Meeting(BaseModel):
        """Meetings."""

        name: str
        starts: datetime

    row = db.upsert(Meeting(name="standup", starts=datetime(2024, 5, 1, 9, 30)))
    stored = datetime.fromisoformat(db.get(row["id"])["starts"])
    assert stored.replace(tzinfo=None) == datetime(2024, 5, 1, 9, 30)


def test_upsert_with_table_and_dicts(db: Database, products: str) -> None:
    one = db.upsert(products, product("U-1"))
    many = db.upsert(products, [product("U-1", price=2), product("U-2")])
    assert many[0]["id"] == one["id"]
    assert db.count(products) == 2


# -- upsert semantics ------------------------------------------------------------------------------
def test_same_key_upserts_keeps_created_at_and_replaces_user_fields(db: Database, products: str) -> None:
    first = db.insert(products, product("K-1", price=1, stock=5, notes="old note", category="tools"))
    second = db.insert(products, {"product_code": "K-1", "name": "Renamed", "price": 2})
    assert second["id"] == first["id"]
    assert db.count(products) == 1
    got = db.get(first["id"])
    assert got["created_at"] == first["created_at"]
    assert _iso(got["modified_at"]) > _iso(first["modified_at"])
    assert (got["name"], got["price"]) == ("Renamed", 2)
    assert "notes" not in got  # replaced, not merged
    assert got["stock"] == 0 and got["category"] is None  # schema defaults, not the old values
    schema = db.schemas.get(products)
    assert db.index.equal(schema, "category", "tools") == []
    assert db.index.equal(schema, "stock", 5) == []
    assert db.index.equal(schema, "stock", 0) == [id16(first)]
    assert db.lookup("Product K-1") == []
    assert [r["id"] for r in db.lookup("Renamed")] == [first["id"]]


def test_batch_upsert_of_existing_and_repeated_keys(db: Database, products: str) -> None:
    first = db.insert(products, product("B-1", price=1))
    rows = db.insert_batch(products, [product("B-1", price=2), product("B-2", price=3), product("B-2", price=4)])
    assert rows[0]["id"] == first["id"] and rows[1]["id"] == rows[2]["id"]
    assert db.count(products) == 2
    assert db.get(first["id"])["created_at"] == first["created_at"]
    assert db.get(rows[1]["id"])["price"] == 4  # the last row for a key wins
    schema = db.schemas.get(products)
    assert db.index.equal(schema, "price", 3) == []
    assert sorted(db.index.equal(schema, "price", 4)) == [id16(rows[1])]


def test_edges_are_merged_by_destination_and_relation(db: Database, products: str) -> None:
    a, b = db.insert(products, product("E-A")), db.insert(products, product("E-B"))
    src = db.insert(products, {**product("E-S"), "edges": [
        {"dst": a["id"], "rel_type": "related", "properties": {"w": 1}},
        {"dst": a["id"], "rel_type": "replaces"},
    ]})
    created = {(e["dst"], e["rel_type"]): e["created_at"] for e in src["edges"]}
    again = db.insert(products, {**product("E-S"), "edges": [
        {"dst": a["id"], "rel_type": "related", "properties": {"w": 2}},
        {"dst": b["id"], "rel_type": "related"},
    ]})
    edges = {(e["dst"], e["rel_type"]): e for e in again["edges"]}
    assert set(edges) == {(a["id"], "related"), (a["id"], "replaces"), (b["id"], "related")}
    assert edges[(a["id"], "related")]["properties"] == {"w": 2}
    assert edges[(a["id"], "related")]["created_at"] == created[(a["id"], "related")]
    # an upsert without edges keeps them
    kept = db.insert(products, product("E-S", price=99))
    assert {(e["dst"], e["rel_type"]) for e in kept["edges"]} == set(edges)
    assert db.get(src["id"])["edges"] == kept["edges"]


def test_edge_to_missing_entity_is_refused_and_nothing_written(db: Database, products: str) -> None:
    ghost = str(uuid.uuid4())
    with pytest.raises(ValidationError) as err:
        db.insert_batch(products, [product("G-1"), {**product("G-2"), "edges": [{"dst": ghost, "rel_type": "r"}]}])
    assert ghost in str(err.value)
    assert db.count(products) == 0 and db.lookup("G-1") == []


@pytest.mark.parametrize("edges", ["not a list", [1], [{"dst": "nope", "rel_type": "r"}],
                                   [{"dst": str(uuid.uuid4()), "rel_type": ""}],
                                   [{"dst": str(uuid.uuid4()), "rel_type": "r", "properties": [1]}]])
def test_malformed_edges_are_validation_errors(db: Database, products: str, edges: object) -> None:
    with pytest.raises(ValidationError):
        db.insert(products, {**product("M-1"), "edges": edges})
    assert db.count(products) == 0


def test_id_of_another_table_is_refused(db: Database, products: str, notes: str) -> None:
    note = db.insert(notes, {"name": "n"})
    with pytest.raises(ValidationError) as err:
        db.insert(products, {**product("X-1"), "id": note["id"]})
    assert "notes" in str(err.value)
    assert db.get(note["id"])["entity_type"] == "notes"
    assert db.count(products) == 0


def test_entity_type_must_match_table(db: Database, products: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.insert(products, {**product("T-1"), "entity_type": "articles"})
    assert "articles" in str(err.value)


def test_concurrent_upserts_of_one_key_leave_one_entity(db: Database, products: str) -> None:
    def work(n: int) -> None:
        for i in range(20):
            db.insert(products, product("SHARED", price=n * 100 + i))
            db.insert(products, product(f"T{n}-{i}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.count(products) == 81
    [shared] = db.lookup("SHARED")
    schema = db.schemas.get(products)
    # exactly one price entry for the shared entity: no entries left over from lost read-modify-writes
    assert [v for v, i in db.index.scan(schema, "price") if i == id16(shared)] == [shared["price"]]


# -- update ----------------------------------------------------------------------------------------
def test_update_merges_fields_and_bumps_modified_at(db: Database, products: str) -> None:
    row = db.insert(products, product("UP-1", price=1, notes="keep me", stock=3))
    updated = db.update(row["id"], {"price": 2, "category": "tools"})
    assert (updated["price"], updated["category"], updated["notes"], updated["stock"]) == (2, "tools", "keep me", 3)
    assert updated["created_at"] == row["created_at"]
    assert _iso(updated["modified_at"]) > _iso(row["modified_at"])
    assert db.get(row["id"]) == updated


def test_update_moves_key_and_field_index_entries(db: Database, products: str) -> None:
    row = db.insert(products, product("OLD-KEY", price=5, category="old-cat", tags=["a", "b"], name="Old Name"))
    db.update(row["id"], {"product_code": "NEW-KEY", "category": "new-cat", "price": 6, "tags": ["b", "c"],
                          "name": "New Name"})
    schema = db.schemas.get(products)
    assert db.lookup("OLD-KEY") == [] and db.lookup("Old Name") == []
    assert [r["id"] for r in db.lookup("NEW-KEY")] == [row["id"]]
    assert [r["id"] for r in db.lookup("New Name")] == [row["id"]]
    assert db.index.equal(schema, "category", "old-cat") == []
    assert db.index.equal(schema, "price", 5) == []
    assert db.index.equal(schema, "tags", "a") == []
    assert db.index.equal(schema, "category", "new-cat") == [id16(row)]
    assert db.index.equal(schema, "tags", "b") == [id16(row)]
    assert db.index.equal(schema, "tags", "c") == [id16(row)]
    assert sorted(key_index_values_of(db, id16(row))) == ["NEW-KEY", "New Name"]


def test_invalid_update_changes_nothing(db: Database, products: str) -> None:
    row = db.insert(products, product("INV-1", price=5))
    with pytest.raises(ValidationError) as err:
        db.update(row["id"], {"price": "five"})
    assert "price" in str(err.value)
    assert db.get(row["id"]) == row
    with pytest.raises(ValidationError):
        db.update(row["id"], ["not", "a", "dict"])
    assert db.get(row["id"]) == row


def test_update_of_missing_or_deleted_entity_is_not_found(db: Database, products: str) -> None:
    with pytest.raises(NotFoundError):
        db.update(str(uuid.uuid4()), {"price": 1})
    row = db.insert(products, product("D-1"))
    db.delete(row["id"])
    with pytest.raises(NotFoundError):
        db.update(row["id"], {"price": 1})


# -- soft delete -----------------------------------------------------------------------------------
def test_soft_delete_hides_entity_unless_include_deleted(db: Database, products: str) -> None:
    keep = db.insert(products, product("SD-KEEP"))
    gone = db.insert(products, product("SD-GONE", name="Gone Name"))
    db.delete(gone["id"])
    with pytest.raises(NotFoundError):
        db.get(gone["id"])
    hidden = db.get(gone["id"], include_deleted=True)
    assert _iso(hidden["deleted_at"]) >= _iso(gone["created_at"])
    assert hidden["modified_at"] == hidden["deleted_at"]
    assert db.lookup("SD-GONE") == [] and db.lookup("Gone Name") == []
    assert [r["id"] for r in db.lookup("SD-GONE", include_deleted=True)] == [gone["id"]]
    assert db.lookup_batch(["SD-GONE", "SD-KEEP"]) == {"SD-GONE": [], "SD-KEEP": [keep]}
    assert db.count(products) == 1 and db.count(products, include_deleted=True) == 2
    assert [r["id"] for r in db.rows(products)] == [keep["id"]]
    assert {r["id"] for r in db.rows(products, include_deleted=True)} == {keep["id"], gone["id"]}
    assert db.get_batch([gone["id"], keep["id"]]) == [None, keep]
    assert db.get_batch([gone["id"]], include_deleted=True)[0]["deleted_at"] == hidden["deleted_at"]
    db.delete(gone["id"])  # deleting again is harmless
    assert db.get(gone["id"], include_deleted=True)["deleted_at"] == hidden["deleted_at"]


# -- hard delete -----------------------------------------------------------------------------------
def test_hard_delete_removes_entity_index_entries_and_edges_both_ways(db: Database, products: str) -> None:
    target = db.insert(products, product("HD-T", category="c1", tags=["t1", "t2"], stock=7, name="Target Name"))
    other = db.insert(products, product("HD-O"))
    source = db.insert(products, {**product("HD-S"), "edges": [
        {"dst": target["id"], "rel_type": "uses"}, {"dst": other["id"], "rel_type": "uses"}]})
    db.update(target["id"], {"edges": [{"dst": other["id"], "rel_type": "next"}]})
    assert field_index_keys_of(db, id16(target)) and edge_keys_touching(db, id16(target))

    db.delete(target["id"], hard=True)

    with pytest.raises(NotFoundError):
        db.get(target["id"], include_deleted=True)
    assert db.get_batch([target["id"]], include_deleted=True) == [None]
    assert field_index_keys_of(db, id16(target)) == []
    assert key_index_values_of(db, id16(target)) == []
    assert edge_keys_touching(db, id16(target)) == []
    assert db.lookup("HD-T", include_deleted=True) == [] and db.lookup("Target Name") == []
    schema = db.schemas.get(products)
    for field, value in (("category", "c1"), ("tags", "t1"), ("stock", 7)):
        assert db.index.equal(schema, field, value) == []
    assert db.count(products, include_deleted=True) == 2
    # the source no longer lists an edge to the removed entity; its other edge stays
    assert [(e["dst"], e["rel_type"]) for e in db.get(source["id"])["edges"]] == [(other["id"], "uses")]
    assert len(edge_keys_touching(db, id16(other))) == 2  # forward + reverse of source -> other


def test_hard_delete_after_soft_delete(db: Database, products: str) -> None:
    row = db.insert(products, product("HS-1"))
    db.delete(row["id"])
    db.delete(row["id"], hard=True)
    assert db.count(products, include_deleted=True) == 0
    assert field_index_keys_of(db, id16(row)) == []
    with pytest.raises(NotFoundError):
        db.delete(row["id"], hard=True)


def test_reinsert_after_soft_delete_brings_the_entity_back(db: Database, products: str) -> None:
    first = db.insert(products, product("SR-1", notes="first"))
    db.delete(first["id"])
    again = db.insert(products, product("SR-1", notes="second"))
    assert again["id"] == first["id"] and again["deleted_at"] is None
    assert again["created_at"] == first["created_at"]
    assert db.get(first["id"])["notes"] == "second"
    assert db.count(products) == 1 and db.count(products, include_deleted=True) == 1
    assert [r["id"] for r in db.lookup("SR-1")] == [first["id"]]


def test_hard_delete_of_entity_with_an_edge_to_itself(db: Database, products: str) -> None:
    row = db.insert(products, product("SELF"))
    db.update(row["id"], {"edges": [{"dst": row["id"], "rel_type": "same_as"}]})
    assert db.get(row["id"])["edges"][0]["dst"] == row["id"]
    db.delete(row["id"], hard=True)
    assert db.count(products, include_deleted=True) == 0
    assert edge_keys_touching(db, id16(row)) == []


def test_reinsert_after_hard_delete_is_a_fresh_entity(db: Database, products: str) -> None:
    first = db.insert(products, product("RE-1", notes="first life"))
    db.delete(first["id"], hard=True)
    second = db.insert(products, product("RE-1"))
    assert second["id"] == first["id"]
    assert "notes" not in db.get(second["id"])
    assert db.count(products) == 1


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", [42, "a string", ["a", "list"], None, 3.5, b"bytes"])
def test_non_dict_rows_are_validation_errors(db: Database, products: str, row: object) -> None:
    with pytest.raises(ValidationError) as err:
        db.insert(products, row)
    assert "products" in str(err.value)
    assert db.count(products) == 0


def test_non_dict_row_in_batch_names_its_row_and_writes_nothing(db: Database, products: str) -> None:
    with pytest.raises(ValidationError) as err:
        db.insert_batch(products, [product("NB-1"), product("NB-2"), "oops", product("NB-4")])
    assert "row 3" in str(err.value)
    assert db.count(products) == 0 and db.lookup("NB-1") == []


def test_unserialisable_values_are_validation_errors(db: Database, notes: str) -> None:
    with pytest.raises(ValidationError):
        db.insert(notes, {"name": "n", "text": object()})
    assert db.count(notes) == 0


@pytest.mark.parametrize("call", [
    lambda db: db.insert("no_such_table", {"a": 1}),
    lambda db: db.insert_batch("no_such_table", [{"a": 1}]),
    lambda db: db.upsert("no_such_table", {"a": 1}),
    lambda db: db.count("no_such_table"),
    lambda db: db.rows("no_such_table"),
    lambda db: db.get_schema("no_such_table"),
    lambda db: db.remove_schema("no_such_table"),
])
def test_unknown_table_is_not_found_and_named(db: Database, call) -> None:
    with pytest.raises(NotFoundError) as err:
        call(db)
    assert "no_such_table" in str(err.value)


@pytest.mark.parametrize("bad", ["not-a-uuid", "", "1234", "g" * 32, 123, None, b"\x00" * 16])
def test_non_uuid_ids_are_validation_errors(db: Database, bad: object) -> None:
    for call in (db.get, lambda i: db.get_batch([i]), lambda i: db.update(i, {"x": 1}), db.delete,
                 lambda i: db.delete(i, hard=True)):
        with pytest.raises(ValidationError):
            call(bad)


def test_ids_that_do_not_exist_are_not_found(db: Database) -> None:
    missing = str(uuid.uuid4())
    for call in (db.get, lambda i: db.update(i, {"x": 1}), db.delete, lambda i: db.delete(i, hard=True)):
        with pytest.raises(NotFoundError) as err:
            call(missing)
        assert missing in str(err.value)
    assert db.get_batch([missing]) == [None]


UNICODE = ["naïve café", "日本語のテキスト", "emoji 🦀🔥👍🏽", "עברית", "e\u0301", "\u200b zero width", "a\x00b",
           "tab\tnew\nline", "\U0010ffff", "quotes \" ' \\ back"]


def test_unicode_values_round_trip(db: Database, notes: str) -> None:
    rows = db.insert_batch(notes, [{"name": text, "text": text * 3, "key": {"nested": text}} for text in UNICODE])
    for text, row in zip(UNICODE, rows, strict=True):
        got = db.get(row["id"])
        assert (got["name"], got["text"], got["key"]) == (text, text * 3, {"nested": text})
        assert [r["id"] for r in db.lookup(text)] == [row["id"]]


def test_one_megabyte_values_round_trip(db: Database, notes: str, products: str) -> None:
    big = ("0123456789abcdef🦀" * 70_000)[:1_048_576]
    row = db.insert(notes, {"name": "big", "text": big})
    assert db.get(row["id"])["text"] == big
    updated = db.update(row["id"], {"text": big[::-1]})
    assert db.get(row["id"])["text"] == updated["text"] == big[::-1]
    # a 1 MB indexed value and a 1 MB key
    big_key = "K" + "x" * 1_048_575
    keyed = db.insert(products, product(big_key, category=big))
    assert [r["id"] for r in db.lookup(big_key)] == [keyed["id"]]
    assert db.index.equal(db.schemas.get(products), "category", big) == [id16(keyed)]
