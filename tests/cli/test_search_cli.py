"""`rem search`, `rem insert --async-embed` and `rem index rebuild` through the real executable."""

from __future__ import annotations

import json

from cli_helpers import Rem

DOCS = [
    {"uri": "doc://bees", "content": "Bees make honey from the nectar of flowers."},
    {"uri": "doc://rail", "content": "High-speed trains run on dedicated rail lines between cities."},
    {"uri": "doc://bread", "content": "Sourdough bread rises slowly thanks to wild yeast."},
]


def load(rem: Rem, *extra: str) -> None:
    result = rem("insert", "resources", "--batch", *extra, input="\n".join(json.dumps(d) for d in DOCS))
    assert result.code == 0, result.err


def test_search_table_and_json(rem: Rem) -> None:
    load(rem)
    table = rem("search", "how is honey produced", "--top-k", "2")
    assert table.code == 0, table.err
    first_row = next(line for line in table.out.splitlines() if "doc://" in line)
    assert "doc://bees" in first_row and "resources" in first_row
    hits = rem("--format", "json", "search", "trains", "--schema", "resources", "-k", "1").json()
    assert len(hits) == 1 and hits[0]["uri"] == "doc://rail" and 0 < hits[0]["_score"] <= 1


def test_async_embed_then_search(rem: Rem) -> None:
    load(rem, "--async-embed")  # the process embeds in the background and finishes before exiting
    hits = rem("--format", "jsonl", "search", "bread baking", "-k", "1").out.splitlines()
    assert json.loads(hits[0])["uri"] == "doc://bread"


def test_search_bad_input(rem: Rem, products_table: str) -> None:
    load(rem)
    for args, fragment in ((["search", ""], "non-empty query"),
                           (["search", "x", "--top-k", "0"], "top_k"),
                           (["search", "x", "--schema", products_table], "has no embedding fields"),
                           (["search", "x", "--schema", "nope"], "unknown table 'nope'")):
        result = rem(*args)
        assert result.code == 1 and fragment in result.err and "Traceback" not in result.err


def test_index_rebuild(rem: Rem) -> None:
    load(rem)
    result = rem("index", "rebuild", "resources")
    assert result.code == 0 and "re-embedded 3 rows of resources" in result.err
    assert rem("--format", "json", "search", "honey", "-k", "1").json()[0]["uri"] == "doc://bees"


def test_batch_insert_shows_embedding_progress_on_a_terminal(rem: Rem) -> None:
    rows = "\n".join(json.dumps({"uri": f"doc://{i}", "content": f"passage number {i} about tides"})
                     for i in range(150))
    code, drawn = rem.on_terminal("insert", "resources", "--batch", input=rows)
    assert code == 0
    assert b"embedding" in drawn and b"inserted 150 rows into resources" in drawn


def test_get_with_embeddings(rem: Rem) -> None:
    load(rem)
    entity = rem("--format", "json", "lookup", "doc://bees").json()[0]
    plain = rem("--format", "json", "get", entity["id"]).json()
    full = rem("--format", "json", "get", entity["id"], "--with-embeddings").json()
    assert "embedding" not in plain and len(full["embedding"]) == 384
