"""`rem insert|upsert|get|update|delete|count|lookup` through the real executable."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from cli_helpers import PP_1001_ID, Rem

PLANT = '{"product_code": "PP-1001-SM", "name": "Monstera Deliciosa", "price": 12.5, "tags": ["plant", "big"]}'


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def thousand_rows(bad_line: int | None = None) -> str:
    rows = [{"product_code": f"P-{n}", "price": n} for n in range(1, 1001)]
    if bad_line is not None:
        rows[bad_line - 1]["price"] = "abc"
    return jsonl(rows)


def test_insert_get_lookup_count(rem: Rem, products_table: str) -> None:
    inserted = rem.ok("-f", "json", "insert", "products", PLANT).json()
    assert inserted["id"] == PP_1001_ID  # deterministic id from the key field (SPEC §1 test vector)
    assert inserted["entity_type"] == "products" and inserted["tags"] == ["plant", "big"]

    table, fetched, found, both, none, count = rem.each(
        ("get", PP_1001_ID), ("get", PP_1001_ID, "--format", "json"), ("lookup", "PP-1001-SM"),
        ("-f", "json", "lookup", "PP-1001-SM", "Monstera Deliciosa", "nothing-here"), ("lookup", "nothing-here"),
        ("count", "products"), code=0)
    assert PP_1001_ID in table.out and "Monstera Deliciosa" in table.out and "12.5" in table.out
    assert fetched.json() == inserted
    assert "products" in found.out and PP_1001_ID in found.out and "PP-1001-SM" in found.out
    assert [e["id"] for e in both.json()] == [PP_1001_ID]  # one entity, matched by key field and by name
    assert none.out == "" and "no entity matches" in none.err
    assert count.out == "1\n"


def test_batch_insert_of_1000_lines_is_quiet_in_pipes(rem: Rem, products_table: str) -> None:
    result = rem.ok("insert", "products", "--batch", input=thousand_rows())
    assert result.err == "inserted 1000 rows into products\n"  # no progress bar when stderr is a pipe
    assert result.out == ""
    count, found = rem.each(("count", "products"), ("-f", "json", "lookup", "P-737"), code=0)
    assert count.out == "1000\n" and found.json()[0]["price"] == 737


def test_batch_with_a_schema_violation_on_line_737_writes_nothing(rem: Rem, products_table: str) -> None:
    result = rem.fails("insert", "products", "--batch", input=thousand_rows(bad_line=737))
    assert "line 737" in result.err and "'price'" in result.err
    assert "nothing from the chunk starting at line 1 was written" in result.err
    assert "0 rows were inserted" in result.err
    assert rem.count("products") == 0


def test_batch_error_in_a_later_chunk_keeps_earlier_chunks_and_says_so(rem: Rem, products_table: str) -> None:
    lines = thousand_rows(bad_line=250).splitlines()[:300]
    text = "\n".join(lines[:10]) + "\n\n\n" + "\n".join(lines[10:]) + "\n"  # blank lines count as lines
    result = rem.fails("upsert", "products", "--batch", "--chunk-size", "100", input=text)
    assert "line 252" in result.err and "'price'" in result.err
    assert "chunk starting at line 203" in result.err and "200 rows were upserted" in result.err
    assert rem.count("products") == 200

    bad_json = jsonl([{"product_code": "ok", "price": 1}]) + '{"product_code": "x", "price": }\n'
    err = rem.fails("insert", "products", "--batch", input=bad_json).err
    assert "invalid JSON on stdin line 2, column 32" in err and "nothing from the chunk" in err


def test_empty_and_binary_stdin_are_refused(rem: Rem, products_table: str) -> None:
    binary = bytes(range(256)) * 4
    assert "stdin is empty" in rem.fails("insert", "products", "--batch", input=b"").err
    assert "stdin is empty" in rem.fails("insert", "products", "--batch", input=b"\n  \n\n").err
    assert "binary" in rem.fails("insert", "products", "--batch", input=binary).err
    assert "not UTF-8" in rem.fails("insert", "products", "--batch", input=b'{"name": "\xff\xfe"}\n').err
    assert "stdin is empty" in rem.fails("insert", "products", "-", input=b"").err
    assert "binary" in rem.fails("upsert", "products", "-", input=binary).err
    assert rem.count("products") == 0


def test_json_from_stdin_and_json_arrays(rem: Rem, products_table: str) -> None:
    one = rem.ok("-f", "json", "insert", "products", "-", input=PLANT).json()
    assert one["id"] == PP_1001_ID
    many = rem.ok("insert", "products", '[{"product_code": "A", "price": 1}, {"product_code": "B", "price": 2}]',
                  "--format", "json")
    assert [e["product_code"] for e in many.json()] == ["A", "B"]
    assert many.err == "inserted 2 rows into products\n"
    bad = rem.fails("insert", "products", '[{"product_code": "C", "price": 3}, {"product_code": "D"}]')
    assert "row 2" in bad.err and "price" in bad.err
    assert rem.count("products") == 3


def test_malformed_json_argument(rem: Rem, products_table: str) -> None:
    trailing_comma, two_lines, empty = rem.each(
        ("insert", "products", '{"product_code": "A", "price": 1,}'), ("update", PP_1001_ID, '{"a": 1,\n oops}'),
        ("upsert", "products", ""))
    assert "invalid JSON in the JSON argument" in trailing_comma.err and "line 1 column 33" in trailing_comma.err
    assert "Traceback" not in trailing_comma.err
    assert "line 2 column 2" in two_lines.err
    assert "empty" in empty.err
    assert rem.count("products") == 0


def test_bad_tables_and_ids(rem: Rem, products_table: str) -> None:
    missing = "0ea061d4-c472-5594-8a21-0d6b56eca23a"
    reads = rem.each(("count", "nope"), ("get", "not-a-uuid"), ("get", missing))
    assert "unknown table 'nope'" in reads[0].err
    assert "'not-a-uuid' is not a UUID" in reads[1].err
    assert f"no entity with id {missing}" in reads[2].err
    assert "unknown table 'nope'" in rem.fails("insert", "nope", '{"a": 1}').err
    assert "unknown table 'nope'" in rem.fails("insert", "nope", "--batch", input="{}\n").err
    assert "'not-a-uuid' is not a UUID" in rem.fails("delete", "not-a-uuid").err
    assert f"no entity with id {missing}" in rem.fails("delete", missing).err
    assert f"no entity with id {missing}" in rem.fails("update", missing, '{"price": 1}').err


def test_wrong_types_and_system_fields_in_data(rem: Rem, products_table: str) -> None:
    err = rem.fails("insert", "products", '{"product_code": "A", "price": "cheap"}').err
    assert "'price'" in err and "number" in err
    err = rem.fails("insert", "products", '{"product_code": "A", "price": 1, "entity_type": "resources"}').err
    assert "entity_type" in err
    assert "expected a JSON object" in rem.fails("insert", "products", "42").err
    assert rem.count("products") == 0


def test_output_formats_parse_back(rem: Rem, products_table: str) -> None:
    rem.ok("insert", "products", '[{"product_code": "A", "price": 1, "details": {"size": "S"}},'
                                 ' {"product_code": "B", "price": 2.5, "tags": ["x", "y"]}]')
    as_json, as_jsonl, as_csv, count_json, count_csv = rem.each(
        ("--format", "json", "lookup", "A", "B"), ("--format", "jsonl", "lookup", "A", "B"),
        ("lookup", "A", "B", "--format", "csv"), ("-f", "json", "count", "products"),
        ("--format", "csv", "count", "products"), code=0)
    entities = as_json.json()
    assert isinstance(entities, list) and [e["product_code"] for e in entities] == ["A", "B"]
    assert [json.loads(line) for line in as_jsonl.out.splitlines()] == entities

    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [r["product_code"] for r in rows] == ["A", "B"]
    assert json.loads(rows[0]["details"]) == {"size": "S"}
    assert json.loads(rows[1]["tags"]) == ["x", "y"]
    assert rows[1]["price"] == "2.5" and rows[0]["deleted_at"] == ""
    assert count_json.json() == {"table": "products", "count": 2}
    assert count_csv.out.splitlines() == ["table,count", "products,2"]

    single, bad_format = rem.each(("get", entities[0]["id"], "-f", "jsonl"), ("--format", "xml", "count", "products"),
                                  code=-1)
    assert single.code == 0 and len(single.out.splitlines()) == 1
    assert json.loads(single.out)["id"] == entities[0]["id"]
    assert bad_format.code == 2 and "xml" in bad_format.err


def test_update_merges_fields_and_validates(rem: Rem, products_table: str) -> None:
    created = rem.ok("-f", "json", "insert", "products", PLANT).json()
    updated = rem.ok("-f", "json", "update", PP_1001_ID, '{"price": 15}').json()
    assert updated["price"] == 15 and updated["name"] == "Monstera Deliciosa"  # other fields kept
    assert updated["created_at"] == created["created_at"]
    assert "'price'" in rem.fails("update", PP_1001_ID, '{"price": "free"}').err
    assert rem.ok("-f", "json", "get", PP_1001_ID).json()["price"] == 15


def test_upsert_replaces_fields_and_keeps_created_at(rem: Rem, products_table: str) -> None:
    first = rem.ok("-f", "json", "upsert", "products", PLANT).json()
    second = rem.ok("-f", "json", "upsert", "products", '{"product_code": "PP-1001-SM", "price": 20}').json()
    assert second["id"] == first["id"] and second["created_at"] == first["created_at"]
    assert second["price"] == 20 and "name" not in second
    assert rem.count("products") == 1


def test_soft_delete_then_hard_delete(rem: Rem, products_table: str) -> None:
    rem.ok("insert", "products", PLANT)
    rem.ok("delete", PP_1001_ID)
    gone, kept, live, everything, looked_up = rem.each(
        ("get", PP_1001_ID), ("-f", "json", "get", PP_1001_ID, "--include-deleted"), ("count", "products"),
        ("count", "products", "--include-deleted"), ("-f", "json", "lookup", "PP-1001-SM"), code=-1)
    assert gone.code == 1 and "no entity" in gone.err
    assert kept.json()["deleted_at"] is not None
    assert (live.out, everything.out) == ("0\n", "1\n")
    assert looked_up.json() == []

    rem.ok("delete", PP_1001_ID, "--hard")
    assert "no entity" in rem.fails("get", PP_1001_ID, "--include-deleted").err
    assert rem.ok("count", "products", "--include-deleted").out == "0\n"


def test_a_second_writer_is_refused_and_readers_still_work(rem: Rem, products_table: str) -> None:
    rem.ok("insert", "products", PLANT)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom rem_db import Database\n"
         "db = Database(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(60)", str(rem.db_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        refused, count, fetched, plain_count = rem.each(
            ("insert", "products", '{"product_code": "B", "price": 1}'), ("--read-only", "count", "products"),
            ("--read-only", "-f", "json", "get", PP_1001_ID), ("count", "products"), code=-1)
        assert refused.code == 1 and "Traceback" not in refused.err
        assert "held read-write" in refused.err and f"pid {holder.pid}" in refused.err
        assert "--read-only" in refused.err
        assert (count.code, count.out) == (0, "1\n")
        assert fetched.code == 0 and fetched.json()["price"] == 12.5
        assert (plain_count.code, plain_count.out) == (0, "1\n")  # read commands always open read-only
    finally:
        holder.kill()
        holder.wait()
    assert rem.count("products") == 1  # the refused insert wrote nothing


def test_read_only_refuses_writes_and_reads_never_create_a_database(rem: Rem, products_table: str,
                                                                     tmp_path: Path) -> None:
    assert "read-only" in rem.fails("--read-only", "insert", "products", PLANT).err
    assert rem.count("products") == 0

    elsewhere = tmp_path / "not-there"
    err = rem.fails("--db-path", str(elsewhere), "count", "products", db=False).err
    assert "no database at" in err and "rem init" in err
    assert not elsewhere.exists()


def test_db_path_that_is_a_file(rem: Rem, tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("hello")
    for args in (["init"], ["count", "resources"], ["insert", "resources", '{"uri": "x"}']):
        err = rem.fails("--db-path", str(afile), *args, db=False).err
        assert "is a file, not a database directory" in err
    under_a_file = rem.fails("--db-path", str(afile / "db"), "init", db=False).err
    assert "cannot create database directory" in under_a_file
    assert afile.read_text() == "hello"


def test_environment_sets_db_path_and_tenant(rem: Rem, products_table: str, tmp_path: Path) -> None:
    env = {"P8_DB_PATH": str(rem.db_path), "P8_TENANT_ID": "acme"}
    rem.ok("insert", "sessions", '{"session_id": "s-1"}', db=False, env=env)
    by_env = rem("count", "sessions", db=False, env=env)
    by_flag, default_tenant = rem.each(("--tenant", "acme", "count", "sessions"), ("count", "sessions"), code=0)
    default_path = rem.fails("count", "sessions", db=False)
    assert (by_env.code, by_env.out) == (0, "1\n")
    assert by_flag.out == "1\n"
    assert default_tenant.out == "0\n"  # the default tenant does not see acme's rows
    assert "no database at" in default_path.err  # default: $P8_HOME/db, not created by a read
    assert not (tmp_path / "home" / "db").exists()


def test_usage_errors_exit_2(rem: Rem, products_table: str) -> None:
    neither, both, unknown, zero = rem.each(
        ("insert", "products"), ("insert", "products", "{}", "--batch"), ("frobnicate",),
        ("insert", "products", "--batch", "--chunk-size", "0"), code=2)
    assert "--batch" in neither.err and "not both" in both.err
    assert "frobnicate" in unknown.err and "chunk-size" in zero.err


def test_progress_bar_is_drawn_on_a_terminal(rem: Rem, products_table: str) -> None:
    code, drawn = rem.on_terminal("insert", "products", "--batch", input=thousand_rows())
    assert code == 0
    assert b"loading products" in drawn and b"inserted 1000 rows into products" in drawn


def test_unicode_and_one_megabyte_values_round_trip(rem: Rem, products_table: str) -> None:
    big = "🌿 naïve façade — " + "x" * (1024 * 1024)
    entity = {"product_code": "Ünïcødé-🌱", "name": big, "price": 1}
    created = rem.ok("-f", "json", "insert", "products", "-", input=json.dumps(entity, ensure_ascii=False)).json()
    as_json, as_table = rem.each(("-f", "json", "get", created["id"]), ("lookup", "Ünïcødé-🌱"), code=0)
    assert as_json.json()["name"] == big and as_json.json()["product_code"] == "Ünïcødé-🌱"
    assert "Ünïcødé-🌱" in as_table.out and len(as_table.out) < 5000  # long values are cut in tables
