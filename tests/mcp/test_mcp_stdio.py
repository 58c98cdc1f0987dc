"""`rem mcp` over stdio, read-only (the default): one real server subprocess for the module, driven by the MCP
SDK's ClientSession; every tool's answer is checked against the same call on a `Database`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import PRODUCT_ROWS, READ_TOOLS, WRITE_TOOLS, McpClient, make_database, stdio_client_for

from rem_db import Database, DatabaseError


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[McpClient, Path, Path]]:
    tmp = tmp_path_factory.mktemp("mcp_stdio")
    make_database(tmp / "db")
    errlog = tmp / "server.err"
    client = stdio_client_for(tmp / "db", tmp, errlog=errlog)
    try:
        yield client, tmp / "db", errlog
    finally:
        client.close()


@pytest.fixture(scope="module")
def mcp(served: tuple[McpClient, Path, Path]) -> McpClient:
    return served[0]


@pytest.fixture(scope="module")
def db(served: tuple[McpClient, Path, Path]) -> Iterator[Database]:
    with Database(served[1], read_only=True) as database:
        yield database


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def test_lists_read_tools_only_with_described_arguments(mcp: McpClient) -> None:
    tools = mcp.tools()
    assert set(tools) == READ_TOOLS and not WRITE_TOOLS & set(tools)
    for tool in tools.values():
        assert len(tool.description or "") > 60, tool.name
        assert tool.annotations is not None and tool.annotations.readOnlyHint
        schema = tool.inputSchema
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    search = tools["search"].inputSchema
    assert search["required"] == ["query"]
    assert search["properties"]["top_k"]["minimum"] == 1 and search["properties"]["top_k"]["maximum"] == 100
    traverse = tools["traverse"].inputSchema["properties"]["direction"]
    assert traverse["enum"] == ["out", "in", "both"]


def test_lookup_exact_and_fuzzy(mcp: McpClient, db: Database) -> None:
    exact = mcp.ok("lookup", key="PP-0007")
    assert ids(exact["results"]) == ids(db.lookup("PP-0007")) and exact["count"] == 1
    assert exact["results"][0]["name"] == "Plant pot 7"
    fuzzy = mcp.ok("lookup", key="pp-0007", fuzzy=True, limit=3)
    expected = db.lookup("pp-0007", fuzzy=True, limit=3)
    assert ids(fuzzy["results"]) == [e["id"] for e, _ in expected]
    assert fuzzy["results"][0]["_score"] == pytest.approx(expected[0][1], abs=1e-3)
    assert mcp.ok("lookup", key="no such key") == {"results": [], "count": 0}


def test_search_matches_database_search(mcp: McpClient, db: Database) -> None:
    found = mcp.ok("search", query="how is honey produced", top_k=2)
    expected = db.search("how is honey produced", top_k=2)
    assert ids(found["results"]) == [e["id"] for e, _ in expected]
    assert found["results"][0]["uri"] == "doc://bees"
    assert found["results"][0]["_score"] == pytest.approx(expected[0][1], abs=1e-3)
    assert all("embedding" not in row for row in found["results"])
    filtered = mcp.ok("search", query="bread", schema="resources", where="uri != ?", params=["doc://bread"],
                      hybrid=True, top_k=5)
    assert "doc://bread" not in [r["uri"] for r in filtered["results"]] and filtered["count"] == 2


def test_query_sql_and_rem_forms(mcp: McpClient, db: Database) -> None:
    sql = "SELECT product_code, price FROM products WHERE price < ? ORDER BY price DESC LIMIT 3"
    assert mcp.ok("query", sql=sql, params=[5])["results"] == db.query(sql, [5])
    named = mcp.ok("query", sql="SELECT COUNT(*) AS n FROM products WHERE price >= :low", params={"low": 100})
    assert named["results"] == [{"n": 20}]
    form = mcp.ok("query", sql="LOOKUP 'doc://rail'")
    assert [r["uri"] for r in form["results"]] == ["doc://rail"]


def test_large_result_is_truncated_with_a_note(mcp: McpClient) -> None:
    result = mcp.ok("query", sql="SELECT * FROM products")
    assert result["count"] == 100 and len(result["results"]) == 100
    assert result["truncated"] is True and result["total"] == PRODUCT_ROWS
    assert "showing 100 of 120" in result["note"] and "LIMIT" in result["note"]
    small = mcp.ok("query", sql="SELECT * FROM products LIMIT 5")
    assert "truncated" not in small and "note" not in small


def test_traverse_and_get(mcp: McpClient, db: Database) -> None:
    walk = mcp.ok("traverse", start="doc://bees", depth=2, rel_types=["related_to"])
    expected = db.traverse("doc://bees", depth=2, rel_type=["related_to"])
    assert [(r["entity"]["id"], r["depth"], r["path"]) for r in walk["results"]] == \
        [(r["entity"]["id"], r["depth"], r["path"]) for r in expected]
    assert [r["entity"]["uri"] for r in walk["results"]] == ["doc://rail", "doc://bread"]
    assert mcp.ok("traverse", start="doc://bread", direction="in")["results"][0]["entity"]["uri"] == "doc://rail"
    bees = db.lookup("doc://bees")[0]
    got = mcp.ok("get", id=bees["id"])
    assert got["content"] == bees["content"] and got["edges"] == bees["edges"]
    assert "embedding" not in got


def test_ask_runs_the_plan(mcp: McpClient, db: Database) -> None:
    answer = mcp.ok("ask", question="PP-0042")
    expected = db.ask("PP-0042")
    assert ids(answer["results"]) == ids(expected["results"]) and answer["query_type"] == "lookup"
    assert answer["planner"] == expected["planner"] and answer["stages"] == expected["stages"]
    plan_only = mcp.ok("ask", question="PP-0042", execute=False)
    assert "results" not in plan_only and plan_only["plan"]["query_type"] == "lookup"


def test_list_and_describe_schemas(mcp: McpClient, db: Database) -> None:
    tables = {t["name"]: t for t in mcp.ok("list_schemas")["results"]}
    assert set(tables) == {s["short_name"] for s in db.list_schemas()}
    assert tables["products"]["rows"] == PRODUCT_ROWS and tables["products"]["key_field"] == "product_code"
    assert tables["resources"]["searchable"] and not tables["products"]["searchable"]
    user = mcp.ok("list_schemas", category="user")["results"]
    assert {t["name"] for t in user} == {s["short_name"] for s in db.list_schemas("user")}
    described = mcp.ok("describe_schema", name="products")
    assert described["fields"] == db.schema_fields("products")
    assert described["json_schema"]["required"] == ["product_code", "name", "price"]
    assert described["rows"] == PRODUCT_ROWS and described["versions"]


def test_errors_are_tool_errors_with_the_cli_message(mcp: McpClient, db: Database) -> None:
    with pytest.raises(DatabaseError) as raised:
        db.query("SELEC name FROM products")
    assert mcp.error("query", sql="SELEC name FROM products") == str(raised.value)
    with pytest.raises(DatabaseError) as raised:
        db.search("x", schema="nope")
    assert mcp.error("search", query="x", schema="nope") == str(raised.value)
    for bad in ("3bb55c7b-41fd-5639-ad56-39ead3603d0c", "not-a-uuid"):
        with pytest.raises(DatabaseError) as raised:
            db.get(bad)
        assert mcp.error("get", id=bad) == str(raised.value)


def test_bad_arguments_are_tool_errors_and_the_server_keeps_answering(mcp: McpClient) -> None:
    assert mcp.error("search", query="x", top_k=0) == \
        "invalid arguments for search: top_k: Input should be greater than or equal to 1 (got 0)"
    assert "query: Field required" in mcp.error("search", top_k=3)
    assert "unknown argument 'table' for search" in mcp.error("search", query="x", table="products")
    assert "direction" in mcp.error("traverse", start="doc://bees", direction="sideways")
    assert "Unknown tool: insert" in mcp.error("insert", table="notes", data={"name": "x"})
    assert mcp.ok("lookup", key="PP-0001")["count"] == 1


def test_sees_writes_of_another_process(served: tuple[McpClient, Path, Path]) -> None:
    mcp, path, _ = served
    assert mcp.ok("lookup", key="fresh note")["count"] == 0
    with Database(path) as writer:  # the server holds the database read-only: another process may write
        writer.insert("notes", {"name": "fresh note", "text": "written while the server runs"})
    assert mcp.ok("lookup", key="fresh note")["results"][0]["text"] == "written while the server runs"


def test_logs_go_to_stderr_not_the_protocol(served: tuple[McpClient, Path, Path]) -> None:
    mcp, path, errlog = served
    assert mcp.ok("lookup", key="PP-0003")["count"] == 1  # stdout carried only JSON-RPC, or this would fail
    assert f"serving {path} (tenant default, read-only) over stdio" in errlog.read_text()
