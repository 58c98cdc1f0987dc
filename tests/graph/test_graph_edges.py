"""Edges (SPEC §7, issue 5): add/remove/list, merge on upsert, keys as destinations, both ends in the tenant,
relation types that round-trip, and the entity's ``edges`` field always equal to its forward edges."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import pytest
from graph_helpers import NODE, assert_consistent, stored_edges

from core_helpers import PRODUCTS, product
from rem_db import Database, NotFoundError, ReadOnlyError, ValidationError


def names(db: Database, *keys: str) -> list[str]:
    return [db.lookup(k)[0]["id"] for k in keys]


def wal_records(db: Database) -> list[tuple[int, list[tuple[str, bytes, bytes | None]]]]:
    return list(db._store.wal_records(1))


def test_add_edge_writes_entity_field_both_keys_and_a_wal_record(db: Database, nodes: str) -> None:
    a, b = db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}])
    before = len(wal_records(db))
    edge = db.add_edge(a["id"], b["id"], "knows", {"since": 2020})
    assert edge["src"] == a["id"] and edge["dst"] == b["id"] and edge["rel_type"] == "knows"
    assert edge["properties"] == {"since": 2020} and edge["created_at"].endswith("Z")
    stored = db.get(a["id"])
    assert stored["edges"] == [{k: v for k, v in edge.items() if k != "src"}]
    assert stored["modified_at"] > a["modified_at"]
    assert db.get(b["id"])["edges"] == []  # an edge belongs to its source
    # one WAL record: the source entity, both edge keys and its adjacency list, in one commit
    (_, ops), = wal_records(db)[before:]
    assert {cf for cf, _, _ in ops} == {"entities", "field_index", "edges", "reverse_edges", "adjacency"}
    assert db.edges(a["id"]) == [{"direction": "out", **edge}]
    assert db.edges(b["id"], direction="in") == [{"direction": "in", **edge}]
    assert db.edges(b["id"]) == [] and db.edges(a["id"], direction="in") == []
    assert db.edges(a["id"], direction="both") == db.edges(a["id"])
    assert_consistent(db)


def test_add_edge_again_merges_by_destination_and_relation(db: Database, nodes: str) -> None:
    a, b = names(db, *[r["name"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}])])
    first = db.add_edge(a, b, "r", {"w": 1})
    second = db.add_edge(a, b, "r", {"w": 2})
    assert second["created_at"] == first["created_at"] and second["properties"] == {"w": 2}
    db.add_edge(a, b, "other")
    assert sorted((e["rel_type"], e["properties"].get("w")) for e in db.get(a)["edges"]) == [("other", None), ("r", 2)]
    assert len(db.edges(a)) == 2
    assert_consistent(db)


def test_remove_edge(db: Database, nodes: str) -> None:
    a, b = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}]))
    db.add_edges([(a, b, "r1"), (a, b, "r2"), (b, a, "r1")])
    db.remove_edge(a, b, "r1")
    assert [(e["dst"], e["rel_type"]) for e in db.get(a)["edges"]] == [(b, "r2")]
    assert {(e["direction"], e["rel_type"]) for e in db.edges(b, "both")} == {("out", "r1"), ("in", "r2")}
    with pytest.raises(NotFoundError, match="no edge"):
        db.remove_edge(a, b, "r1")
    db.remove_edge("a", "b", "r2")  # by key
    assert db.get(a)["edges"] == []
    assert_consistent(db)


def test_upsert_merges_edges_and_keeps_the_keys_in_step(db: Database, nodes: str) -> None:
    a, b, c = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}, {"name": "c"}]))
    db.insert(nodes, {"name": "s", "edges": [{"dst": a, "rel_type": "r"}, {"dst": b, "rel_type": "r"}]})
    db.add_edge("s", c, "added")
    db.upsert(nodes, {"name": "s", "label": "new", "edges": [{"dst": a, "rel_type": "r", "properties": {"x": 1}}]})
    edges = {(e["dst"], e["rel_type"]): e["properties"] for e in db.lookup("s")[0]["edges"]}
    assert edges == {(a, "r"): {"x": 1}, (b, "r"): {}, (c, "added"): {}}
    db.update(db.lookup("s")[0]["id"], {"label": "newer"})  # a patch without edges keeps them
    assert len(db.lookup("s")[0]["edges"]) == 3
    assert_consistent(db)


def test_edge_destinations_given_as_keys(db: Database, nodes: str, products: str) -> None:
    monstera = db.insert(nodes, {"name": "Monstera Deliciosa"})
    pot = db.insert(products, product("PP-1001-SM"))
    row = db.insert(nodes, {"name": "plant-1", "edges": [
        {"dst": "Monstera Deliciosa", "rel_type": "species"}, {"dst": "PP-1001-SM", "rel_type": "potted_in"}]})
    assert {(e["dst"], e["rel_type"]) for e in row["edges"]} == {(monstera["id"], "species"), (pot["id"], "potted_in")}
    # a key of a row in the same batch, and update() with a key
    rows = db.insert_batch(nodes, [{"name": "x", "edges": [{"dst": "y", "rel_type": "next"}]}, {"name": "y"}])
    assert rows[0]["edges"][0]["dst"] == rows[1]["id"]
    updated = db.update(rows[1]["id"], {"edges": [{"dst": "x", "rel_type": "back"}]})
    assert updated["edges"][0]["dst"] == rows[0]["id"]
    # the API takes keys for both ends
    edge = db.add_edge("plant-1", "PP-1001-SM", "bought_with")
    assert (edge["src"], edge["dst"]) == (row["id"], pot["id"])
    assert_consistent(db, ("node", "products"))


def test_unknown_edge_destination_is_a_validation_error_naming_it(db: Database, nodes: str) -> None:
    db.insert(nodes, {"name": "a"})
    with pytest.raises(ValidationError, match=r"edges\[1\]\.dst 'Nobody' is neither an entity id nor a key") as err:
        db.insert_batch(nodes, [{"name": "b"}, {"name": "c", "edges": [{"dst": "a", "rel_type": "r"},
                                                                       {"dst": "Nobody", "rel_type": "r"}]}])
    assert err.value.position == 1 and err.value.field == "edges"
    ghost = str(uuid.uuid4())
    with pytest.raises(ValidationError, match=ghost):
        db.insert(nodes, {"name": "d", "edges": [{"dst": ghost, "rel_type": "r"}]})
    for bad in (None, 42, "", ["a"]):
        with pytest.raises(ValidationError, match=r"edges\[0\]\.dst"):
            db.insert(nodes, {"name": "e", "edges": [{"dst": bad, "rel_type": "r"}]})
    assert db.count(nodes) == 1 and stored_edges(db) == (set(), set())


def test_ambiguous_key_lists_the_candidates_with_their_tables(db: Database, nodes: str, articles: str) -> None:
    node = db.insert(nodes, {"name": "Dune"})
    article = db.insert(articles, {"title": "Dune"})
    with pytest.raises(ValidationError, match="ambiguous") as err:
        db.insert(nodes, {"name": "reader", "edges": [{"dst": "Dune", "rel_type": "likes"}]})
    assert f"node {node['id']}" in str(err.value) and f"articles {article['id']}" in str(err.value)
    with pytest.raises(ValidationError, match=f"articles {article['id']}"):
        db.add_edge(node["id"], "Dune", "r")
    # a soft-deleted candidate gives way to the live one
    db.delete(article["id"])
    assert db.insert(nodes, {"name": "reader", "edges": [{"dst": "Dune", "rel_type": "likes"}]})["edges"][0]["dst"] \
        == node["id"]


def test_both_ends_must_exist(db: Database, nodes: str) -> None:
    a = db.insert(nodes, {"name": "a"})["id"]
    ghost = str(uuid.uuid4())
    with pytest.raises(NotFoundError, match=f"edge destination {ghost} does not exist"):
        db.add_edge(a, ghost, "r")
    with pytest.raises(NotFoundError, match=f"edge source {ghost} does not exist"):
        db.add_edge(ghost, a, "r")
    with pytest.raises(NotFoundError, match="'nobody' is neither an entity id nor a key"):
        db.add_edge(a, "nobody", "r")
    with pytest.raises(NotFoundError):
        db.edges(ghost)
    with pytest.raises(NotFoundError):
        db.remove_edge(ghost, a, "r")
    # a batch with one bad edge writes nothing
    b = db.insert(nodes, {"name": "b"})["id"]
    with pytest.raises(NotFoundError):
        db.add_edges([(a, b, "r"), (b, ghost, "r")])
    assert db.get(a)["edges"] == [] and stored_edges(db) == (set(), set())


def test_soft_deleted_ends(db: Database, nodes: str) -> None:
    a, b = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}]))
    db.delete(b)
    db.add_edge(a, b, "r")  # a soft-deleted entity still exists (an upsert brings it back)
    with pytest.raises(NotFoundError, match="soft-deleted"):
        db.add_edge(b, a, "r")  # but its edges do not change while it is deleted, as with update()
    assert [e["dst"] for e in db.edges(a)] == [b]


@pytest.mark.parametrize("rel", ["part:of", "urn:rel:x/y", "ünïcødé ✓", "关系", "with space", "a\x00b", "UPPER",
                                 "emoji 🌱"])
def test_relation_types_round_trip(db: Database, nodes: str, rel: str) -> None:
    a, b, c = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}, {"name": "c"}]))
    db.add_edge(a, b, rel)
    db.add_edge(a, c, rel + "x")  # a longer type sharing the prefix is another type
    assert [e["rel_type"] for e in db.edges(a, rel_type=rel)] == [rel]
    assert [e["rel_type"] for e in db.edges(b, "in")] == [rel]
    assert {e["rel_type"] for e in db.get(a)["edges"]} == {rel, rel + "x"}
    found = db.traverse(a, rel_type=rel)
    assert [(r["entity"]["id"], r["path"]) for r in found] == [(b, [{"id": b, "rel_type": rel}])]
    assert db.neighbors_batch([a], rel_type=[rel])[a] == [{"id": b, "rel_type": rel, "direction": "out"}]
    db.remove_edge(a, b, rel)
    assert_consistent(db)


@pytest.mark.parametrize("rel", ["", None, 5, ["r"]])
def test_bad_relation_types(db: Database, nodes: str, rel: object) -> None:
    a, b = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}]))
    with pytest.raises(ValidationError, match="rel_type"):
        db.add_edge(a, b, rel)  # type: ignore[arg-type]


def test_bad_edge_items_and_properties(db: Database, nodes: str) -> None:
    a, b = (r["id"] for r in db.insert_batch(nodes, [{"name": "a"}, {"name": "b"}]))
    with pytest.raises(ValidationError, match="edge 1"):
        db.add_edges([(a, b, "r"), (a, b)])
    with pytest.raises(ValidationError, match="properties must be an object"):
        db.add_edge(a, b, "r", [1])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not an entity id or key"):
        db.add_edge(a, 42, "r")
    db.add_edges([{"src": a, "dst": b, "rel_type": "d", "properties": {"when": uuid.UUID(int=1)}}])
    assert db.edges(a)[0]["properties"] == {"when": str(uuid.UUID(int=1))}


def test_self_edges_are_allowed(db: Database, nodes: str) -> None:
    a = db.insert(nodes, {"name": "a"})["id"]
    db.add_edge(a, a, "same_as")
    assert {e["direction"] for e in db.edges(a, "both")} == {"out", "in"}
    assert db.traverse(a, depth=3, direction="both") == []  # the start is never returned
    assert db.shortest_path(a, a) == {"length": 0, "path": [], "entities": [db.get(a)]}
    assert_consistent(db)


def test_tenants_never_share_edges(db_path: Path) -> None:
    with Database(db_path, tenant_id="t1") as t1:
        t1.register_schema(copy.deepcopy(NODE))
        a = t1.insert("node", {"name": "a"})["id"]
        b = t1.insert("node", {"name": "b"})["id"]
        t1.add_edge(a, b, "r")
    with Database(db_path, tenant_id="t2") as t2:
        t2.register_schema(copy.deepcopy(NODE))
        x = t2.insert("node", {"name": "x"})["id"]
        with pytest.raises(NotFoundError):
            t2.add_edge(x, a, "r")  # an id of another tenant does not exist here
        with pytest.raises(NotFoundError):
            t2.add_edge(x, "b", "r")  # nor does its key
        with pytest.raises(ValidationError):
            t2.insert("node", {"name": "y", "edges": [{"dst": b, "rel_type": "r"}]})
        with pytest.raises(NotFoundError):
            t2.traverse(a)
        assert t2.neighbors_batch([a]) == {a: []} and stored_edges(t2) == (set(), set())
        # same names, same deterministic ids, separate graphs
        a2 = t2.insert("node", {"name": "a"})["id"]
        assert a2 == a and t2.edges(a2) == [] and t2.traverse("a") == []
    with Database(db_path, tenant_id="t1") as t1:
        assert [r["entity"]["name"] for r in t1.traverse("a")] == ["b"]


def test_read_only_database_refuses_edge_writes(db_path: Path) -> None:
    with Database(db_path) as db:
        db.register_schema(copy.deepcopy(NODE))
        a, b = (r["id"] for r in db.insert_batch("node", [{"name": "a"}, {"name": "b"}]))
        db.add_edge(a, b, "r")
    with Database(db_path, read_only=True) as ro:
        for call in (lambda: ro.add_edge(a, b, "s"), lambda: ro.add_edges([(a, b, "s")]),
                     lambda: ro.remove_edge(a, b, "r")):
            with pytest.raises(ReadOnlyError):
                call()
        assert [r["entity"]["id"] for r in ro.traverse(a)] == [b]


def test_products_fixture_edges_with_schema_defaults(db: Database, products: str) -> None:
    # edges between rows of a table with defaults and indexes: index entries stay correct after edge writes
    rows = db.insert_batch(products, [product("P-1", category="c"), product("P-2")])
    db.add_edge(rows[0]["id"], rows[1]["id"], "bundle")
    schema = db.schemas.get(products)
    assert db.index.equal(schema, "category", "c") == [uuid.UUID(rows[0]["id"]).bytes]
    assert [r["id"] for r in db.rows(products)] == [r["id"] for r in db.rows(products)]
    assert PRODUCTS["key_field"] == "product_code"
    assert db.count(products) == 2 and db.edges("P-1")[0]["dst"] == rows[1]["id"]


def test_async_database_mirrors_the_graph_api(db_path: Path) -> None:
    import asyncio

    from rem_db import AsyncDatabase

    async def main() -> None:
        async with AsyncDatabase(db_path) as adb:
            await adb.register_schema(copy.deepcopy(NODE))
            await adb.insert_batch("node", [{"name": "a"}, {"name": "b"}])
            edge = await adb.add_edge("a", "b", "r")
            assert await adb.add_edges([("b", "a", "s")]) == 1
            assert [e["dst"] for e in await adb.edges("a")] == [edge["dst"]]
            assert [r["depth"] for r in await adb.traverse("a", depth=2)] == [1]
            assert (await adb.shortest_path("a", "b", direction="out"))["length"] == 1
            assert len((await adb.neighbors_batch(["a"], direction="both"))[edge["src"]]) == 2
            await adb.remove_edge("a", "b", "r")
            assert await adb.edges("a") == []

    asyncio.run(main())
