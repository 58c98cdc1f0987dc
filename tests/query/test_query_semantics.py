"""SQL semantics of Database.query over real rows: operators, three-valued logic, typed comparisons,
dotted paths, lists, ordering, aggregates, projections, soft deletes."""

from __future__ import annotations

import pytest
from query_helpers import skus

from rem_db import Database, QueryError


def where(db: Database, condition: str, params: object = None, **kw: object) -> set[str]:
    return set(skus(db.query(f"SELECT sku FROM items WHERE {condition}", params, **kw)))  # type: ignore[arg-type]


ALL = {"A1", "A2", "B1", "C1", "C2", "D1", "E1", "F1", "G1", "H1", "K1", "L1"}


@pytest.mark.parametrize(("condition", "expected"), [
    ("price > 2", {"A2", "D1", "E1", "F1", "G1", "H1", "K1"}),
    ("price >= 2.25 AND price <= 3", {"A2", "K1", "E1"}),
    ("price = 1", {"L1"}),  # stored as the integer 1
    ("price = 1.0", {"L1"}),
    ("2.25 = price", {"A2", "K1"}),
    ("price != 2.25", ALL - {"A2", "K1", "C2"}),  # NULL price is neither equal nor unequal
    ("price <> 2.25", ALL - {"A2", "K1", "C2"}),
    ("NOT (price > 2)", {"A1", "B1", "C1", "L1"}),
    ("price IS NULL", {"C2"}),
    ("price IS NOT NULL", ALL - {"C2"}),
    ("qty = 0", {"A2", "K1"}),
    ("qty < 5 OR qty > 30", {"A2", "C1", "C2", "H1", "K1"}),
    ("category IN ('fruit', 'drink')", {"A1", "A2", "B1", "G1", "L1", "H1"}),
    ("category NOT IN ('fruit')", {"C1", "C2", "E1", "F1", "H1", "K1"}),
    ("category NOT IN ('fruit', NULL)", set()),  # x NOT IN (…, NULL) is never TRUE
    ("category IN ('fruit', NULL)", {"A1", "A2", "B1", "G1", "L1"}),
    ("price BETWEEN 1 AND 2.25", {"A1", "A2", "K1", "L1"}),
    ("price NOT BETWEEN 1 AND 2.25", {"B1", "C1", "D1", "E1", "F1", "G1", "H1"}),
    ("price BETWEEN 3 AND 1", set()),
    ("NOT (price > 1 AND category = 'fruit')", {"B1", "C1", "C2", "E1", "F1", "H1", "K1", "L1"}),
    ("price > 100 OR price IS NULL", {"C2"}),
    ("(category = 'fruit' OR category = 'dried') AND NOT active", {"A2"}),
    ("active", {"A1", "B1", "C1", "D1", "F1", "G1", "H1", "L1"}),
    ("NOT active", {"A2", "C2", "E1", "K1"}),
    ("active = FALSE", {"A2", "C2", "E1", "K1"}),
    ("TRUE", ALL),
    ("FALSE OR NULL", set()),
])
def test_comparisons_and_three_valued_logic(shop: Database, condition: str, expected: set[str]) -> None:
    assert where(shop, condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("name LIKE 'A%'", {"A1"}),  # case-sensitive
    ("name ILIKE 'a%'", {"A1", "A2"}),
    ("name NOT LIKE '%a%'", {"A1", "C2", "F1", "H1", "L1"}),  # Apple, Céleri, Fig_dried, 日本茶, Lemon
    ("name LIKE '_ate%'", {"D1"}),
    ("name LIKE '%100!%' ESCAPE '!'", {"D1"}),
    ("name LIKE 'Fig!_%' ESCAPE '!'", {"F1"}),
    ("name LIKE 'Fig_dried'", {"F1"}),
    ("name ILIKE 'CÉLERI'", {"C2"}),
    ("name LIKE '日本%'", {"H1"}),
    ("note LIKE '%''s%'", {"F1"}),
    ("name LIKE ''", set()),
    ("category LIKE 'fr%'", {"A1", "A2", "B1", "G1", "L1"}),  # indexed: read as a prefix range
])
def test_like_and_ilike(shop: Database, condition: str, expected: set[str]) -> None:
    assert where(shop, condition) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("metadata.author = 'ann'", {"A1", "B1", "G1"}),  # 'Ann' differs: string equality is exact
    ("metadata.rating >= 5", {"A2", "F1", "H1"}),
    ("metadata.origin.country = 'FR'", {"C1"}),
    ("metadata.author IS NULL", {"C2", "D1", "K1"}),  # {} , missing object, explicit null
    ("metadata.nothing.deeper IS NULL", ALL),
    ("items.price > 9", {"F1", "H1"}),  # a column qualified by its table
])
def test_dotted_paths_into_nested_objects(shop: Database, condition: str, expected: set[str]) -> None:
    assert where(shop, condition) == expected


def test_table_alias_qualifies_columns(shop: Database) -> None:
    rows = shop.query("SELECT i.sku FROM items AS i WHERE i.metadata.rating = 1")
    assert rows == [{"sku": "K1"}]


@pytest.mark.parametrize(("condition", "expected"), [
    ("released > '2024-06-01'", {"D1", "E1", "F1", "G1"}),
    ("released = '2024-03-01T10:00:00Z'", {"A2", "K1"}),  # 12:00+02:00 is the same instant
    ("released = '2024-06-15'", {"D1", "E1"}),
    ("released < '2024-01-01T01:00:00+00:00'", {"B1"}),  # 23:30-01:00 on Dec 31 is 00:30Z
    ("released BETWEEN '2024-01-01' AND '2024-01-31T23:59:59Z'", {"A1", "B1"}),
    ("released IN ('2025-01-01T01:00:00+01:00', '2024-02-29T08:00:00Z')", {"F1", "H1"}),
    ("released IS NULL", {"C1", "C2"}),  # explicit null, and a declared field absent from the row
    ("released >= '2024-05-05T05:05:05.5Z' AND released < '2024-05-05T05:05:05.500001Z'", {"L1"}),
])
def test_timestamps_compare_chronologically(shop: Database, condition: str, expected: set[str]) -> None:
    assert where(shop, condition) == expected


def test_system_fields(shop: Database) -> None:
    a1 = shop.query("SELECT id, entity_type, created_at, modified_at, deleted_at FROM items WHERE sku = 'A1'")[0]
    assert a1["entity_type"] == "items" and a1["deleted_at"] is None
    assert where(shop, f"id = '{a1['id']}'") == {"A1"}
    assert where(shop, f"id = '{a1['id'].upper()}'") == {"A1"}  # UUIDs compare as UUIDs
    assert where(shop, "entity_type = 'items'") == ALL
    assert where(shop, "created_at > '2000-01-01' AND deleted_at IS NULL") == ALL
    assert where(shop, f"modified_at >= '{a1['modified_at']}'") == ALL  # one batch, one timestamp
    assert where(shop, "created_at < '2000-01-01'") == set()


@pytest.mark.parametrize(("condition", "expected"), [
    ("tags = 'sweet'", {"A1", "B1", "D1", "F1"}),  # a list matches when an element does
    ("tags IN ('red', 'purple')", {"A1", "E1", "G1"}),
    ("tags != 'sweet'", ALL - {"A1", "B1", "D1", "F1"}),  # NOT (contains 'sweet'): [] included
    ("tags LIKE 'gr%'", {"G1", "H1", "K1"}),
    ("tags > 'x'", {"B1", "L1"}),  # 'yellow'
    ("tags IS NULL", set()),  # [] is a value, not NULL
])
def test_list_fields_match_on_any_element(shop: Database, condition: str, expected: set[str]) -> None:
    assert where(shop, condition) == expected


def test_order_by_nulls_last_multi_key_limit_offset(shop: Database) -> None:
    asc = skus(shop.query("SELECT sku FROM items ORDER BY price, sku"))
    assert asc == ["B1", "C1", "L1", "A1", "A2", "K1", "E1", "G1", "D1", "H1", "F1", "C2"]
    desc = skus(shop.query("SELECT sku FROM items ORDER BY price DESC, sku"))
    assert desc == ["F1", "H1", "D1", "G1", "E1", "A2", "K1", "A1", "L1", "C1", "B1", "C2"]
    first = skus(shop.query("SELECT sku FROM items ORDER BY price NULLS FIRST, sku LIMIT 2"))
    assert first == ["C2", "B1"]
    assert skus(shop.query("SELECT sku FROM items ORDER BY sku LIMIT 3 OFFSET 2")) == ["B1", "C1", "C2"]
    assert skus(shop.query("SELECT sku FROM items ORDER BY sku OFFSET 10")) == ["K1", "L1"]
    assert shop.query("SELECT sku FROM items ORDER BY sku LIMIT 0") == []
    by_cat = skus(shop.query("SELECT sku FROM items ORDER BY category DESC, price DESC"))
    assert by_cat == ["E1", "K1", "C1", "C2", "G1", "A2", "A1", "L1", "B1", "H1", "F1", "D1"]
    assert skus(shop.query("SELECT sku, price AS p FROM items ORDER BY p DESC LIMIT 1")) == ["F1"]
    assert skus(shop.query("SELECT *, price AS p FROM items ORDER BY p DESC LIMIT 2")) == ["F1", "H1"]
    assert skus(shop.query("SELECT sku, name FROM items ORDER BY 2 LIMIT 2")) == ["A1", "B1"]  # 'Apple' < 'Banana'


def test_order_by_timestamps_and_strings(shop: Database) -> None:
    rows = shop.query("SELECT sku FROM items WHERE released IS NOT NULL ORDER BY released DESC, sku LIMIT 4")
    assert skus(rows) == ["F1", "G1", "D1", "E1"]
    names = [r["name"] for r in shop.query("SELECT name FROM items ORDER BY name")]
    assert names == sorted(names)  # code point order: uppercase before lowercase, 'Céleri' after 'Carrot'
    assert names[-1] == "日本茶" and names.index("apricot") > names.index("Lemon")


def test_aggregates_without_group_by(shop: Database) -> None:
    row = shop.query("SELECT COUNT(*), COUNT(price), SUM(qty), AVG(qty), MIN(price), MAX(price), MAX(name), "
                     "MIN(released) FROM items")[0]
    assert row["count(*)"] == 12 and row["count(price)"] == 11
    assert row["sum(qty)"] == 149 and row["avg(qty)"] == pytest.approx(149 / 12)
    assert row["min(price)"] == 0.5 and row["max(price)"] == 12.5 and row["max(name)"] == "日本茶"
    assert row["min(released)"] == "2023-12-31T23:30:00-01:00"  # the stored text of the earliest instant
    total = shop.query("SELECT SUM(price) AS total FROM items")[0]["total"]
    assert total == pytest.approx(44.74)
    assert shop.query("SELECT SUM(qty) AS s FROM items WHERE qty = 0") == [{"s": 0}]


def test_aggregates_over_no_rows(shop: Database) -> None:
    rows = shop.query("SELECT COUNT(*) AS n, SUM(qty) AS s, MAX(name) AS m FROM items WHERE qty > 1000")
    assert rows == [{"n": 0, "s": None, "m": None}]
    assert shop.query("SELECT category, COUNT(*) FROM items WHERE qty > 1000 GROUP BY category") == []


def test_group_by_with_order_and_limit(shop: Database) -> None:
    rows = shop.query("SELECT category, COUNT(*) AS n, SUM(qty) AS q FROM items GROUP BY category "
                      "ORDER BY n DESC, category")
    assert rows == [
        {"category": "fruit", "n": 5, "q": 80},
        {"category": "vegetable", "n": 4, "q": 55},
        {"category": "dried", "n": 1, "q": 7},
        {"category": "drink", "n": 1, "q": 2},
        {"category": None, "n": 1, "q": 5},
    ]
    top = shop.query("SELECT metadata.author AS who, MAX(metadata.rating) AS best FROM items "
                     "GROUP BY metadata.author ORDER BY COUNT(*) DESC, who LIMIT 2")
    assert top == [{"who": "ann", "best": 4}, {"who": None, "best": 1}]


def test_group_by_timestamp_groups_equal_instants(shop: Database) -> None:
    rows = shop.query("SELECT released, COUNT(*) AS n FROM items WHERE released IS NOT NULL GROUP BY released "
                      "ORDER BY n DESC, released LIMIT 2")
    assert [r["n"] for r in rows] == [2, 2]
    assert rows[0]["released"] in ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00Z")


def test_group_by_boolean_and_count_column(shop: Database) -> None:
    rows = shop.query("SELECT active, COUNT(*) AS n, COUNT(note) AS notes FROM items GROUP BY active ORDER BY active")
    assert rows == [{"active": False, "n": 4, "notes": 0}, {"active": True, "n": 8, "notes": 2}]


def test_projection_names(shop: Database) -> None:
    row = shop.query("SELECT sku, sku, metadata.author, price AS p, COUNT(*) FROM items WHERE sku = 'A1' "
                     "GROUP BY sku, metadata.author, price")[0]
    assert row == {"sku": "A1", "sku_1": "A1", "metadata.author": "ann", "p": 1.5, "count(*)": 1}
    star = shop.query("SELECT *, price AS p FROM items WHERE sku = 'B1'")[0]
    assert star["p"] == 0.5 and star["name"] == "Banana" and star["entity_type"] == "items"
    full = shop.query("SELECT * FROM items WHERE sku = 'B1'")[0]
    assert full == shop.get(full["id"])  # SELECT * is the flat entity


def test_soft_deleted_rows_are_excluded_unless_asked(shop: Database) -> None:
    a1 = shop.query("SELECT id FROM items WHERE sku = 'A1'")[0]["id"]
    shop.delete(a1)
    fruit = "SELECT sku FROM items WHERE category = 'fruit'"
    assert "A1" not in skus(shop.query(fruit))
    assert "A1" in skus(shop.query(fruit, include_deleted=True))
    assert "A1" not in skus(shop.query("SELECT sku FROM items"))
    assert skus(shop.query("SELECT sku FROM items ORDER BY price DESC LIMIT 20"))[-1] != "A1"
    assert "A1" not in skus(shop.query("SELECT sku FROM items ORDER BY price LIMIT 20"))
    counts = {r["category"]: r["n"] for r in shop.query("SELECT category, COUNT(*) n FROM items GROUP BY category")}
    assert counts["fruit"] == 4
    assert shop.query("SELECT COUNT(*) n FROM items")[0]["n"] == 11
    assert shop.query("SELECT COUNT(*) n FROM items", include_deleted=True)[0]["n"] == 12
    assert shop.query("SELECT COUNT(*) n FROM items WHERE price > 1")[0]["n"] == 7
    assert where(shop, "deleted_at IS NOT NULL", include_deleted=True) == {"A1"}
    assert shop.query(f"SELECT sku FROM items WHERE id = '{a1}'") == []


def test_schemaless_table_compares_by_type(db: Database) -> None:
    db.register_schema({"title": "loose", "type": "object", "description": "Anything goes."})
    values = [1, 1.0, "1", True, 2.5, None, [1, 2], {"a": 1}, "b", "2024-01-01"]
    db.insert_batch("loose", [{"n": i, "v": v} for i, v in enumerate(values)])

    def ns(condition: str) -> list[int]:
        return sorted(r["n"] for r in db.query(f"SELECT n FROM loose WHERE {condition}"))

    assert ns("v = 1") == [0, 1, 6]  # 1, 1.0 and the list containing 1 — not '1', not TRUE
    assert ns("v = '1'") == [2]
    assert ns("v = TRUE") == [3]
    assert ns("v > 'a'") == [8]  # strings only: '1' and '2024-01-01' sort before 'a'
    assert ns("v > 1") == [4, 6]  # 2.5, and the list holding 2
    assert ns("v IS NULL") == [5]
    with pytest.raises(QueryError, match="unknown column 'whatever' in table 'loose'"):
        ns("whatever IS NULL")  # a name no row ever had is a typo, schemaless or not
    db.insert("loose", {"n": 10, "whatever": 1})
    assert ns("whatever IS NULL") == list(range(10))  # once a row has it, rows without it read NULL
    assert ns("NOT (v = 1)") == [4]  # other types compare as UNKNOWN, so NOT keeps only 2.5
    assert ns("v IN (1, 'b')") == [0, 1, 6, 8]


def test_params_bind_values(shop: Database) -> None:
    assert where(shop, "price > ? AND category = ?", [2, "fruit"]) == {"A2", "G1"}
    assert where(shop, "price > :p AND category = :c", {"p": 2, "c": "fruit"}) == {"A2", "G1"}
    assert where(shop, "sku IN ?", [["A1", "B1", "ZZ"]]) == {"A1", "B1"}
    assert where(shop, "sku IN (?, ?)", ("A1", "C1")) == {"A1", "C1"}
    import datetime as dt

    assert where(shop, "released > ?", [dt.datetime(2024, 6, 15, 1, tzinfo=dt.UTC)]) == {"F1", "G1"}
    assert where(shop, "released > ?", [dt.date(2024, 6, 16)]) == {"F1", "G1"}
    assert skus(shop.query("SELECT sku FROM items ORDER BY sku LIMIT ? OFFSET ?", [2, 1])) == ["A2", "B1"]
    assert where(shop, "category = ?", [None]) == set()  # = NULL is never TRUE
