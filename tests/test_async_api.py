"""AsyncDatabase (SPEC §14): every method as a coroutine, without blocking the event loop."""

from __future__ import annotations

import asyncio
import copy
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_helpers import PRODUCTS, product
from rem_db import AsyncDatabase, Database, NotFoundError, StorageError, ValidationError


def test_async_database_mirrors_the_sync_api(db_path: Path) -> None:
    async def main() -> None:
        async with AsyncDatabase(db_path) as adb:
            described = await adb.register_schema(copy.deepcopy(PRODUCTS))
            assert described["key_field"] == "product_code"
            assert "products" in {s["short_name"] for s in await adb.list_schemas()}
            assert (await adb.get_schema("products"))["version"] == "1.0.0"
            one = await adb.insert("products", product("A-1", price=1))
            many = await adb.insert_batch("products", [product("A-2"), product("A-3")])
            assert (await adb.get(one["id"])) == one
            assert (await adb.get_batch([one["id"], many[0]["id"]])) == [one, many[0]]
            assert [r["id"] for r in await adb.lookup("A-2")] == [many[0]["id"]]
            assert (await adb.lookup_batch(["A-3", "zz"]))["zz"] == []
            assert await adb.count("products") == 3
            updated = await adb.update(one["id"], {"price": 5})
            assert updated["price"] == 5
            upserted = await adb.upsert("products", product("A-1", price=7))
            assert upserted["id"] == one["id"]
            await adb.delete(many[1]["id"])
            assert await adb.count("products") == 2
            assert len(await adb.rows("products")) == 2
            assert (await adb.stats())["tables"]["products"] == 2
            assert await adb.wait_idle(5) is True
            with pytest.raises(NotFoundError):
                await adb.get(str(uuid.uuid4()))
            with pytest.raises(ValidationError):
                await adb.insert("products", {"product_code": "bad"})
            await adb.add_schema_from_template("plants", "entities")
            assert await adb.remove_schema("plants") == 0
            assert isinstance(adb.sync, Database)
            (db_path.parent / "out").mkdir()
            summary = await adb.export("products", db_path.parent / "out" / "products.jsonl")
            assert summary["rows"] == 2 and (db_path.parent / "out" / "products.jsonl").read_text().count("\n") == 2

    asyncio.run(main())
    with Database(db_path) as db:  # closed on exit, data persisted
        assert db.count("products") == 2


def test_open_classmethod_and_not_open_yet(db_path: Path) -> None:
    adb = AsyncDatabase(db_path)
    with pytest.raises(RuntimeError):
        _ = adb.sync

    async def main() -> int:
        opened = await AsyncDatabase.open(db_path)
        try:
            await opened.insert("resources", {"uri": "u://a", "content": "c"})
            return await opened.count("resources")
        finally:
            await opened.close()

    assert asyncio.run(main()) == 1


def test_event_loop_keeps_running_during_a_large_batch(db_path: Path) -> None:
    async def main() -> tuple[int, int]:
        async with AsyncDatabase(db_path) as adb:
            await adb.register_schema(copy.deepcopy(PRODUCTS))
            ticks = 0
            running = True

            async def ticker() -> None:
                nonlocal ticks
                while running:
                    await asyncio.sleep(0.001)
                    ticks += 1

            task = asyncio.create_task(ticker())
            await asyncio.sleep(0.01)
            before = ticks
            rows = await adb.insert_batch("products", [product(f"T-{n:05d}", category=f"c{n % 7}", tags=["a", "b"])
                                                       for n in range(5000)])
            during = ticks - before
            running = False
            await task
            assert len(rows) == 5000
            return during, await adb.count("products")

    during, count = asyncio.run(main())
    assert count == 5000
    assert during > 0  # a blocking call would have frozen the ticker for the whole insert


def test_concurrent_coroutines_share_one_database(db_path: Path) -> None:
    async def main() -> int:
        async with AsyncDatabase(db_path) as adb:
            await asyncio.gather(*(adb.insert("resources", {"uri": f"u://{n}", "content": "c"}) for n in range(40)))
            found = await asyncio.gather(*(adb.lookup(f"u://{n}") for n in range(40)))
            assert all(len(f) == 1 for f in found)
            return await adb.count("resources")

    assert asyncio.run(main()) == 40


def test_async_search(tmp_path) -> None:
    import asyncio

    from rem_db import AsyncDatabase

    async def main() -> list:
        async with AsyncDatabase(tmp_path / "db") as db:
            await db.insert_batch("resources", [{"uri": "a", "content": "Bees make honey."},
                                                {"uri": "b", "content": "Trains run on rails."}])
            return await db.search("honey bees", top_k=1)

    hits = asyncio.run(main())
    assert hits[0][0]["uri"] == "a"


def test_every_public_method_has_an_async_mirror() -> None:
    """SPEC §14: AsyncDatabase mirrors every method (``rows`` is an iterator: iterate ``query`` instead)."""
    from rem_db import Database
    from rem_db.async_api import AsyncDatabase

    public = {name for name, value in vars(Database).items()
              if not name.startswith("_") and callable(value) and not isinstance(value, staticmethod)}
    missing = {name for name in public - {"rows"} if not hasattr(AsyncDatabase, name)}
    assert missing == set()


def out_of_order_rounds(db_path: Path, rounds: int) -> int:
    """Start ``rounds`` rounds of four writes to one row (insert, update, upsert, update) without awaiting in
    between; the rounds whose row does not end as the last write left it."""
    from core_helpers import expected_id

    async def main() -> list[dict | None]:
        async with AsyncDatabase(db_path) as adb:
            await adb.register_schema(copy.deepcopy(PRODUCTS))
            tasks = []
            for r in range(rounds):  # each task is created (so started) in this order
                code = f"K-{r}"
                ident = expected_id(f"products:{code}")
                tasks += [asyncio.create_task(adb.insert("products", product(code, price=0))),
                          asyncio.create_task(adb.update(ident, {"price": 1})),
                          asyncio.create_task(adb.upsert("products", product(code, price=2))),
                          asyncio.create_task(adb.update(ident, {"price": 3, "stock": r}))]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert [x for x in results if isinstance(x, BaseException)] == []
            return await adb.get_batch([expected_id(f"products:K-{r}") for r in range(rounds)])

    rows = asyncio.run(main())
    return sum((row or {}).get("price") != 3 or (row or {}).get("stock") != r for r, row in enumerate(rows))


def test_writes_keep_their_call_order(db_path: Path) -> None:
    """Issue 18, item 6: writes started together (not awaited in between) apply in the order they were
    called. The old ``asyncio.to_thread`` per call ran them on several threads at once (updates before their
    insert, older values last: 19 of 200 rounds)."""
    assert out_of_order_rounds(db_path, 200) == 0


@pytest.mark.long
def test_write_order_campaign(tmp_path: Path) -> None:
    """Campaign (d): 25 databases x 200 rounds (20,000 writes), 0 rounds out of order (bench/RESULTS.md)."""
    assert sum(out_of_order_rounds(tmp_path / f"db{n}", 200) for n in range(25)) == 0


def test_close_drains_the_writer_and_later_calls_fail(db_path: Path) -> None:
    async def main() -> list[object]:
        adb = await AsyncDatabase.open(db_path)
        writes = [asyncio.create_task(adb.insert("resources", {"uri": f"u://{n}", "content": "c"}))
                  for n in range(50)]
        await adb.close()  # queued after the 50 inserts: they all run first
        assert all(task.done() and task.exception() is None for task in writes)
        await adb.close()  # a second close does nothing
        with pytest.raises(StorageError):
            await adb.insert("resources", {"uri": "u://late", "content": "c"})
        return [task.result()["uri"] for task in writes]

    assert asyncio.run(main()) == [f"u://{n}" for n in range(50)]
    with Database(db_path) as db:  # the directory was released
        assert db.count("resources") == 50


def test_reads_run_beside_a_write_and_see_awaited_writes(db_path: Path) -> None:
    released = threading.Event()

    def slow_rows() -> Iterator[dict]:
        yield product("S-1")
        assert released.wait(5), "the read waited behind the write"
        yield product("S-2")

    async def main() -> None:
        async with AsyncDatabase(db_path) as adb:
            await adb.register_schema(copy.deepcopy(PRODUCTS))
            await adb.insert("products", product("A-1"))
            assert await adb.count("products") == 1  # sees the awaited insert
            batch = asyncio.create_task(adb.insert_batch("products", slow_rows()))
            await asyncio.sleep(0.05)  # the writer thread is inside the batch now
            assert await adb.count("products") == 1  # a read does not queue behind the write
            released.set()
            assert len(await batch) == 2
            assert await adb.count("products") == 3

    asyncio.run(main())


def test_every_mirrored_method_is_either_a_write_or_a_read() -> None:
    from rem_db.async_api import _READS, _WRITES

    assert set(_WRITES).isdisjoint(_READS)
    assert {"insert", "insert_batch", "upsert", "update", "delete", "add_edge", "add_edges", "remove_edge",
            "register_schema", "remove_schema", "ingest", "insert_jsonl", "rebuild_index"} <= set(_WRITES)
