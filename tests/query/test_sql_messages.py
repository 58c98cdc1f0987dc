"""Near-miss SQL: typos of keywords, missing clauses, keywords as names, stray commas, wrong quotes, statements a
query cannot run. Each is a QueryError whose message names what the user wrote (and what to write instead) and
whose position points at it; none runs."""

from __future__ import annotations

import pytest
from cli_helpers import Rem

from rem_db import Database, QueryError
from rem_db.query.parse import parse

# (query, words the message must hold, 1-based column of the position)
NEAR_MISSES = [
    # typos of keywords
    ("SELEC x FROM t", "unknown statement 'SELEC': did you mean SELECT?", 1),
    ("SLECT * FROM t", "did you mean SELECT?", 1),
    ("LOOKUPS 'k'", "did you mean LOOKUP?", 1),
    ("SERCH 'plants'", "did you mean SEARCH?", 1),
    ("TRAVERS FROM 'x'", "did you mean TRAVERSE?", 1),
    ("EXPLAIN SELEC x", "did you mean SELECT?", 9),
    ("FOO bar", "unknown statement 'FOO': a query starts with SELECT, LOOKUP, SEARCH, TRAVERSE or EXPLAIN", 1),
    ("SELECT * FROM t WHER a = 1", "unexpected 'a' after 'WHER': did you mean WHERE?", 22),
    ("SELECT * FRM t", "after 'FRM': did you mean FROM?", 14),
    ("SELECT * FROM t ORDR BY a", "after 'ORDR': did you mean ORDER BY?", 22),
    ("SELECT * FROM t LIMT 5", "after 'LIMT': did you mean LIMIT?", 22),
    ("SELECT * FROM t WHERE a = 1 ORDR BY a", "unexpected 'ORDR': did you mean ORDER BY?", 29),
    ("SELECT * FROM t WHERE a LIKEE 'x%'", "unexpected 'LIKEE': did you mean LIKE?", 25),
    ("SELECT * FROM t ORDER BY a DSC", "unexpected 'DSC': did you mean DESC?", 28),
    ("SELECT * FROM t ORDER a", "ORDER needs BY after it (ORDER BY col, …), got 'a'", 23),
    ("SELECT n FROM t GROUP n", "GROUP needs BY after it", 23),
    # missing or incomplete clauses
    ("SELECT n FROM t GROUP BY", "GROUP BY needs a column after it, got end of query", 25),
    ("SELECT * FROM t ORDER BY", "ORDER BY needs a column after it, got end of query", 25),
    ("SELECT * FROM t WHERE", "WHERE needs a condition after it, got end of query", 22),
    ("SELECT * FROM t WHERE ORDER BY a", "WHERE needs a condition after it, got 'ORDER'", 23),
    ("SELECT * FROM t LIMIT", "LIMIT needs a number after it, got end of query", 22),
    ("SELECT * FROM t LIMIT 5 OFFSET", "OFFSET needs a number after it", 31),
    ("SELECT * FROM t LIMIT ten", "LIMIT must be a non-negative integer, got ten", 17),
    ("SELECT * FROM t LIMIT 2.5", "LIMIT must be a non-negative integer, got 2.5", 23),
    ("SELECT * FROM t LIMIT -", "'-' needs a value after it, got end of query", 24),
    ("SELECT FROM t", "SELECT needs a column list (* or col, …) before 'FROM'", 8),
    ("SELECT", "SELECT needs a column after it, got end of query", 7),
    ("SELECT * FROM", "FROM needs a table name after it, got end of query", 14),
    ("SELECT * FROM t AS", "AS needs a name after it, got end of query", 19),
    ("SELECT a AS FROM t", "AS needs a name after it, got 'FROM'", 13),
    ("SELECT sku items WHERE qty = 8",
     "a FROM clause naming a table is required before WHERE (is 'items' the table? write FROM items)", 18),
    ("SELECT * FROM t WHERE a =", "'=' needs a value after it, got end of query", 26),
    ("SELECT * FROM t WHERE a = = 1", "'=' needs a value after it, got '='", 27),
    ("SELECT * FROM t WHERE a = 1 AND", "AND needs a condition after it, got end of query", 32),
    ("SELECT * FROM t WHERE a = 1 OR OR b = 2", "OR needs a condition after it, got 'OR'", 32),
    ("SELECT * FROM t WHERE AND a = 1", "AND needs a condition before it", 23),
    ("SELECT * FROM t WHERE NOT", "NOT needs a condition after it", 26),
    ("SELECT * FROM t WHERE a BETWEEN 1", "BETWEEN needs AND, as in BETWEEN 1 AND 5, got end of query", 34),
    ("SELECT * FROM t WHERE a BETWEEN 1 AND", "BETWEEN … AND needs a value after it", 38),
    ("SELECT * FROM t WHERE a IN", "IN needs a list in parentheses after it, as in IN ('a', 'b'), got end of query",
     27),
    ("SELECT * FROM t WHERE a IN 1, 2", "IN needs a list in parentheses after it", 28),
    ("SELECT * FROM t WHERE a IS", "IS needs NULL or NOT NULL after it, got end of query", 27),
    ("SELECT * FROM t WHERE a LIKE", "LIKE needs a value after it", 29),
    ("SELECT * FROM t WHERE a NOT 1", "NOT cannot follow 'a'", 25),
    ("SELECT * FROM t ORDER BY a NULLS", "NULLS needs FIRST or LAST after it", 33),
    ("SELECT * FROM t WHERE a.b. = 1", "'.' needs a field name after it, got '='", 28),
    # clauses out of order or repeated, trailing text
    ("SELECT * FROM t LIMIT 2 WHERE a = 1", "WHERE must come before LIMIT", 25),
    ("SELECT * FROM t WHERE a = 1 LIMIT 2 ORDER BY a", "ORDER BY must come before LIMIT", 37),
    ("SELECT * FROM t WHERE a = 1 WHERE b = 2", "WHERE is given twice", 29),
    ("SELECT * FROM t LIMIT 5 LIMIT 6", "LIMIT is given twice", 25),
    ("SELECT * FROM t LIMIT 5 5", "unexpected '5'; expected OFFSET or the end of the query", 25),
    ("SELECT * FROM t t2 t3", "unexpected 't3'; expected WHERE, GROUP BY, ORDER BY, LIMIT, OFFSET", 20),
    ("SELECT * FROM t WHERE a = TRUE FALSE", "unexpected 'FALSE'", 32),
    ("SELECT * FROM t; DROP TABLE t", "only one statement per query", 16),
    # keywords as names
    ("SELECT when FROM t", "got 'when' (when is an SQL keyword: to use it as a name, quote it: \"when\")", 8),
    ("SELECT * FROM t WHERE select = 1", "quote it: \"select\"", 23),
    ("SELECT * FROM t ORDER BY desc", "quote it: \"desc\"", 26),
    ("SELECT * FROM t ORDER BY limit", "quote it: \"limit\"", 26),
    ("SELECT * FROM from", "FROM needs a table name after it, got 'from' (from is an SQL keyword", 15),
    ("SELECT a AS select FROM t", "quote it: \"select\"", 13),
    # stray commas
    ("SELECT a,, b FROM t", "stray ',': a column is missing between two commas", 10),
    ("SELECT a, FROM t", "stray ',' before 'FROM': remove it or add a column after it", 9),
    ("SELECT , a FROM t", "stray ',' right after SELECT", 8),
    ("SELECT * FROM t,", "stray ',' before end of query", 16),
    ("SELECT n FROM t GROUP BY n,", "stray ',' before end of query", 27),
    ("SELECT * FROM t ORDER BY a, , b", "stray ','", 29),
    ("SELECT * FROM t WHERE a IN (1,)", "stray ',' before ')': a value is missing after it", 30),
    ("SELECT * FROM t WHERE a IN (,1)", "stray ',' right after '('", 29),
    ("SELECT COUNT(a,) FROM t", "stray ',' before ')'", 15),
    # parentheses
    ("SELECT * FROM t WHERE (a = 1", "'(' is never closed: a ')' is missing", 23),
    ("SELECT * FROM t WHERE a = 1)", "unmatched ')': no '(' before it is open", 28),
    ("SELECT COUNT( FROM t", "'(' is never closed", 13),
    ("SELECT * FROM t WHERE (a = 1 b = 2)", "unexpected 'b' inside parentheses", 30),
    # quotes
    ("SELECT * FROM t WHERE a = 'x", "unterminated quoted string: this ' is never closed", 27),
    ('SELECT "a FROM t', "unterminated quoted string: this \" is never closed", 8),
    ("SELECT * FROM t WHERE a = `x`", "backquotes (`) do not quote anything here", 27),
    ("SELECT * FROM t WHERE a = ‘x’", "‘ is a typographic quote", 27),
    ("SELECT * FROM t WHERE a = “x”", "“ is a typographic quote", 27),
    ("SELECT * FROM 'items'", "FROM needs a table name, got string 'items': write a name without quotes", 15),
    ("SELECT * FROM t /* note", "unterminated comment: /* is never closed with */", 17),
    ("SELECT * FROM t WHERE a = 'x' 'y'", "unexpected string 'y'", 31),
    # characters and parameters SQL does not use
    ("SELECT * FROM t WHERE a = @x", "unexpected '@': expected a value (a column, 'text', a number or a parameter) "
                                     "after '='", 27),
    ("SELECT * FROM t WHERE a ≠ 1", "unexpected character '≠': write != or <> instead", 25),
    ("SELECT * FROM t WHERE a = ?1", "numbered parameters like ?1 are not supported: use ? (bound in order) or :name",
     27),
    ("SELECT * FROM t WHERE a = :", "unexpected ':'", 27),
    # statements and clauses a query cannot run
    ("INSERT INTO t VALUES (1)", "INSERT statements are not supported: a query only reads (SELECT …, LOOKUP, SEARCH, "
                                 "TRAVERSE); write rows with Database.insert / insert_batch / upsert, or `rem insert`",
     1),
    ("UPSERT t", "UPSERT statements are not supported", 1),
    ("REPLACE INTO t VALUES (1)", "REPLACE statements are not supported", 1),
    ("UPDATE t SET a = 1", "change a row with Database.update(id, patch), or `rem update`", 1),
    ("DELETE FROM t WHERE a = 1", "delete a row with Database.delete(id), or `rem delete`", 1),
    ("TRUNCATE t", "TRUNCATE statements are not supported", 1),
    ("CREATE TABLE t (a INT)", "a table is made by registering its schema: Database.register_schema, or "
                               "`rem schema add`", 1),
    ("DROP TABLE t", "drop a table with Database.remove_schema, or `rem schema remove`", 1),
    ("ALTER TABLE t ADD b INT", "ALTER statements are not supported", 1),
    ("SHOW TABLES", "list tables with Database.list_schemas / `rem schema list`", 1),
    ("BEGIN", "there are no transactions", 1),
    ("COPY t TO 'x.csv'", "export a table with Database.export, or `rem export`", 1),
    ("SELECT TOP 5 * FROM t", "TOP n is not supported: put LIMIT n at the end of the query", 8),
    ("SELECT * FROM t FETCH FIRST 5 ROWS ONLY", "FETCH … ROWS is not supported: write LIMIT n", 17),
    ("SELECT * FROM a JOIN b ON a.x = b.x", "JOIN is not supported (a query reads one table)", 17),
    ("SELECT * FROM a LEFT JOIN b USING (x)", "JOIN is not supported", 22),
    ("SELECT * FROM a, b", "several tables in FROM are not supported", 18),
    ("SELECT CASE WHEN a THEN 1 END FROM t", "CASE expression is not supported", 8),
    # found by the long SQL fuzz campaign: the parser read it as an alias, and the message named that
    ("SELECT$1 * BETWEENFROM items", "syntax error: this does not read as a query (SELECT … FROM table", 1),
]


@pytest.mark.parametrize(("text", "message", "column"), NEAR_MISSES, ids=[q for q, _, _ in NEAR_MISSES])
def test_near_miss_names_the_token_and_its_place(text: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    shown = str(info.value)
    assert message in shown, shown
    assert (info.value.line, info.value.column) == (1, column), shown
    assert f"(at line 1, column {column})" in shown
    for leak in ("sqlglot", "<class", "Required keyword", "Invalid expression", "Unexpected token", "SENTINEL",
                 "ALIAS statements", "Token("):
        assert leak not in shown, shown


def test_the_survey_is_about_sixty_queries_or_more() -> None:
    assert len(NEAR_MISSES) >= 60


@pytest.mark.parametrize("text", [
    "SELECT n FROM loose GROUP BY",  # the report: it used to return rows
    "SELECT n FROM loose ORDER BY",
    "SELECT n FROM loose WHERE",
    "SELECT n FROM loose LIMIT",
    "SELECT n FROM loose WHERE n = 1 AND",
    "SELECT n, FROM loose",
    "SELECT n FROM loose AS",
    "SELECT n FROM loose LIMIT 2 WHERE n = 1",
    "SELECT * FROM loose WHERE n = ‘x’",
])
def test_incomplete_queries_run_nothing(shop: Database, text: str) -> None:
    shop.insert("loose", {"n": 1})
    with pytest.raises(QueryError, match="syntax error"):
        shop.query(text)
    assert shop.query("SELECT n FROM loose") == [{"n": 1}]  # the database is still usable


def test_keywords_are_names_once_quoted(shop: Database) -> None:
    shop.insert("loose", {"when": "today", "select": 1, "desc": "d", "order": 7})
    assert shop.query('SELECT "when", "select" FROM loose WHERE "desc" = \'d\' ORDER BY "desc"') == [
        {"when": "today", "select": 1}]
    # words that are names wherever they stand keep working without quotes
    assert shop.query("SELECT order FROM loose WHERE order = 7") == [{"order": 7}]


@pytest.mark.parametrize("text", [
    "SELECT sku FROM items LIMIT 1, 2",  # LIMIT offset, count (SQLite, MySQL)
    "FROM items SELECT sku WHERE qty = 0 ORDER BY sku",  # DuckDB's FROM-first form
    "FROM items WHERE qty = 0",
    "SELECT sku FROM items WHERE note NOT NULL ORDER BY sku",
    "SELECT sku FROM items WHERE qty == 0 ORDER BY sku;;",
    "select sku from items i where i.qty = 0 order by 1 desc nulls last limit 5 offset 0",
    "SELECT COUNT(*) n FROM items -- a comment\n",
    "SELECT sku FROM items WHERE released > TIMESTAMP '2024-06-01' AND price BETWEEN 1 AND 20",
    "SELECT sku FROM items WHERE released > '2024-06-01'::TIMESTAMP",
])
def test_forms_that_stay_valid(shop: Database, text: str) -> None:
    shop.query(text)


def test_search_condition_names_what_follows_it(shop: Database) -> None:
    with pytest.raises(QueryError) as info:
        parse("SEARCH 'x' IN items WHERE price > LIMIT 3")
    assert "'>' needs a value after it, got 'LIMIT'" in str(info.value) and info.value.column == 35
    with pytest.raises(QueryError, match="AND needs a condition after it, got end of query"):
        shop.count("items", where="price > 1 AND")
    with pytest.raises(QueryError, match=r"unexpected 'pricee'.*\(at line 1, column 9\)"):
        shop.count("items", where="qty = 1 pricee > 2")


def test_positions_on_later_lines() -> None:
    with pytest.raises(QueryError) as info:
        parse("SELECT sku\nFROM items\nWHERE price > 1\n  AND\nORDER BY sku")
    assert "AND needs a condition after it, got 'ORDER'" in str(info.value)
    assert (info.value.line, info.value.column) == (5, 1)


def test_cli_prints_the_message_without_traceback(rem: Rem) -> None:
    typo, incomplete, write = rem.each(("query", "SELEC sku FROM items"), ("query", "SELECT sku FROM items GROUP BY"),
                                       ("query", "INSERT INTO items VALUES (1)"))
    assert "did you mean SELECT?" in typo.err and "(at line 1, column 1)" in typo.err
    assert "GROUP BY needs a column after it, got end of query" in incomplete.err
    assert "`rem insert`" in write.err
