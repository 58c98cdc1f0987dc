"""`rem mcp --write --root DIR` over stdio: the write tools, checked by reading the database back, and ingest
refusing every path outside the root (`..`, absolute paths, symbolic links)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import READ_TOOLS, WRITE_TOOLS, McpClient, make_database, stdio_client_for

from rem_db import Database


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mcp_write")
    make_database(tmp / "db")
    root = tmp / "root"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "tides.md").write_text("# Tides\n\nThe moon pulls the oceans, so tides rise twice a day.\n")
    (tmp / "outside.txt").write_text("a secret outside the root\n")
    (root / "escape.txt").symlink_to(tmp / "outside.txt")
    (root / "escape_dir").symlink_to(tmp)
    return tmp


@pytest.fixture(scope="module")
def mcp(tmp: Path) -> Iterator[McpClient]:
    client = stdio_client_for(tmp / "db", tmp, "--write", "--root", str(tmp / "root"), errlog=tmp / "server.err")
    try:
        yield client
    finally:
        client.close()


def reader(tmp: Path) -> Database:
    """A read-only view of what the server has committed so far."""
    return Database(tmp / "db", read_only=True)


def test_write_tools_listed_with_root_in_ingest_description(mcp: McpClient, tmp: Path) -> None:
    tools = mcp.tools()
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    assert str((tmp / "root").resolve()) in (tools["ingest"].description or "")
    assert tools["insert"].annotations is not None and tools["insert"].annotations.readOnlyHint is False


def test_insert_one_and_many(mcp: McpClient, tmp: Path) -> None:
    one = mcp.ok("insert", table="notes", data={"name": "shopping", "text": "buy compost"})
    assert one["inserted"] == 1 and one["results"][0]["entity_type"] == "notes"
    many = mcp.ok("insert", table="notes", data=[{"name": f"batch {i}", "text": f"note {i}"} for i in range(3)])
    assert many["inserted"] == 3 and many["count"] == 3
    with reader(tmp) as db:
        assert db.get(one["results"][0]["id"])["text"] == "buy compost"
        assert [db.get(row["id"])["name"] for row in many["results"]] == ["batch 0", "batch 1", "batch 2"]


def test_invalid_insert_is_a_tool_error_and_writes_nothing(mcp: McpClient, tmp: Path) -> None:
    bad = [{"product_code": "X-1", "name": "x", "price": 1.0}, {"product_code": "X-2", "name": "y", "price": "cheap"}]
    message = mcp.error("insert", table="products", data=bad)
    assert message == 'products row 2 (index 1): field \'price\': "cheap" is not of type "number" (rule: type)'
    assert "unknown table 'nope'" in mcp.error("insert", table="nope", data={"a": 1})
    with reader(tmp) as db:
        assert db.lookup("X-1") == [] and db.count("products") == 120  # the failed batch wrote nothing


def test_add_edge_then_traverse(mcp: McpClient, tmp: Path) -> None:
    edge = mcp.ok("add_edge", src="doc://bread", dst="PP-0001", rel_type="baked_in", properties={"oven": 2})
    assert edge["rel_type"] == "baked_in" and edge["properties"] == {"oven": 2}
    walk = mcp.ok("traverse", start="doc://bread", rel_types=["baked_in"])
    assert [r["entity"]["product_code"] for r in walk["results"]] == ["PP-0001"]
    with reader(tmp) as db:
        assert [e["rel_type"] for e in db.edges("doc://bread")] == ["baked_in"]
    assert mcp.error("add_edge", src="doc://bread", dst="nowhere", rel_type="x") == \
        "edge destination 'nowhere' is neither an entity id nor a key of any entity"


def test_ingest_inside_root(mcp: McpClient, tmp: Path) -> None:
    done = mcp.ok("ingest", path="notes", recursive=True, tags=["ocean"])
    assert done["summary"]["added"] == 1 and done["summary"]["chunks"] >= 1
    assert done["results"][0]["status"] == "added"
    found = mcp.ok("search", query="why do tides rise", schema="resources", top_k=1)
    assert "moon" in found["results"][0]["content"] and found["results"][0]["tags"] == ["ocean"]
    again = mcp.ok("ingest", path=str(tmp / "root" / "notes" / "tides.md"), tags=["ocean"])
    assert again["summary"]["unchanged"] == 1


@pytest.mark.parametrize("path", ["../outside.txt", "{tmp}/outside.txt", "escape.txt", "escape_dir/outside.txt",
                                  "escape_dir", "/etc/hostname"])
def test_ingest_outside_root_is_refused(mcp: McpClient, tmp: Path, path: str) -> None:
    message = mcp.error("ingest", path=path.format(tmp=tmp))
    assert "is outside the folder this server may ingest from" in message
    with reader(tmp) as db:
        assert not [r for r in db.query("SELECT uri FROM documents") if "outside" in (r["uri"] or "")]
