"""Readable search tables at 80 columns (issue 19 item 6): keys shortened in the middle, never losing the tail
that tells two chunks apart; the machine formats untouched by the terminal width."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess

import pytest
from cli_helpers import Rem
from rich.cells import cell_len

from rem_db.cli.output import shorten_middle

ROOT = "file:///srv/deal-room/2024/q3/industrial-portfolio/glenview"
DOCS = [  # uris that differ only in the file name's number or the chunk fragment
    {"uri": f"{ROOT}/doc-00{doc}-glenview-industrial-warehouse.pdf#chunk-000{chunk}",
     "content": f"Glenview industrial warehouse lease, section {chunk}: the base rent is {10 + doc} dollars per "
                "square foot per year, with annual escalations of three percent over a five year term."}
    for doc, chunk in ((1, 3), (1, 4), (2, 3))
]
QUERY = ("search", "glenview warehouse base rent", "--top-k", "3")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# -- the helper --------------------------------------------------------------------------------------
def pieces(short: str, text: str) -> tuple[str, str]:
    """The kept start and end of ``text`` in ``short``: the start of the text or of its last ``/`` segment."""
    head, mark, tail = short.partition("…")
    assert mark, f"no ellipsis in {short!r}"
    assert text.startswith(head) or text.rsplit("/", 1)[-1].startswith(head), (short, text)
    assert text.endswith(tail), (short, text)
    return head, tail


@pytest.mark.parametrize("text", ["", "doc://bees", DOCS[0]["uri"]])
def test_values_that_fit_are_untouched(text: str) -> None:
    assert shorten_middle(text, cell_len(text)) == text
    assert shorten_middle(text, 200) == text


@pytest.mark.parametrize(("width", "expected"), [
    (111, "file:///…/deal-room/2024/q3/industrial-portfolio/glenview/doc-001-glenview-industrial-warehouse.pdf"
          "#chunk-0003"),  # one cell short: the shortest leading segment goes first
    (71, "file:///…/glenview/doc-001-glenview-industrial-warehouse.pdf#chunk-0003"),
    (66, "file:///srv/…/doc-001-glenview-industrial-warehouse.pdf#chunk-0003"),  # room left: the head grows
    (62, "file:///…/doc-001-glenview-industrial-warehouse.pdf#chunk-0003"),
    (54, "…/doc-001-glenview-industrial-warehouse.pdf#chunk-0003"),
])
def test_cuts_at_slashes_keeping_the_file_name_and_fragment(width: int, expected: str) -> None:
    assert shorten_middle(DOCS[0]["uri"], width) == expected


@pytest.mark.parametrize(("text", "width", "expected"), [
    (DOCS[0]["uri"], 26, "doc-001-glen…df#chunk-0003"),  # narrower than the file name: its start and its end
    (DOCS[0]["uri"], 5, "do…03"),
    ("Glenview Industrial Warehouse Lease › Rent schedule", 26, "Glenview Ind…Rent schedule"),  # no slash
    ("doc://bees", 1, "…"),
    ("doc://bees", 0, ""),
])
def test_narrower_than_the_tail(text: str, width: int, expected: str) -> None:
    assert shorten_middle(text, width) == expected


@pytest.mark.parametrize("text", [
    "file:///データ/報告書-第一四半期-最終版-東京.pdf#chunk-0001",  # two cells per character
    "file:///notes/cafe\u0301-cafe\u0301-cafe\u0301-cafe\u0301-re\u0301sume\u0301.md#chunk-0002",  # combining marks
    "file:///photos/" + "👩\u200d👩\u200d👧" * 6 + ".jpg",  # emoji joined into one glyph
])
def test_unicode_fits_the_cells_and_keeps_characters_whole(text: str) -> None:
    for width in range(2, cell_len(text) + 1):
        short = shorten_middle(text, width)
        assert cell_len(short) <= width
        if short == text:
            continue
        head, tail = pieces(short, text)
        assert not tail or cell_len(tail[0]) > 0, f"a mark cut from its character at width {width}: {short!r}"
        assert not tail.startswith("\u200d") and not head.endswith("\u200d")


# -- `rem search` as a table ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Rem:
    """One database for the module: its tests only read it."""
    rem = Rem.in_tmp(tmp_path_factory.mktemp("search-output"))
    rem.ok("insert", "resources", "--batch", input="\n".join(json.dumps(d) for d in DOCS))
    return rem


def hit_uris(rem: Rem) -> list[str]:
    return [hit["uri"] for hit in rem.ok("--format", "json", *QUERY).json()]


def key_cells(table: str) -> list[str]:
    """The key column of each hit's first line (score | table | key | snippet [| id])."""
    return [line.split("│")[3].strip() for line in table.splitlines() if re.match(r"│ \d\.\d{3} ", line)]


def assert_tails_shown(table: str, uris: list[str], width: int) -> None:
    assert all(cell_len(line) <= width for line in table.splitlines()), table
    keys = key_cells(table)
    assert len(keys) == len(uris) == len(set(keys)) == 3, table
    for key, uri in zip(keys, uris, strict=True):
        pieces(key, uri)
        doc, chunk = re.search(r"doc-00\d", uri).group(), uri.rsplit("#", 1)[1]
        assert doc in key and key.endswith(chunk), (key, uri)


def test_piped_table_at_80_columns_keeps_the_distinguishing_tail(loaded: Rem) -> None:
    result = loaded.ok(*QUERY, env={"COLUMNS": "80"})
    assert_tails_shown(result.out, hit_uris(loaded), 80)
    assert "snippet" in result.out and "base rent" in result.out and result.err == "3 results\n"


def test_terminal_table_at_80_columns_keeps_the_distinguishing_tail(loaded: Rem) -> None:
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen([loaded.exe, "--db-path", str(loaded.db_path), *QUERY], stdin=subprocess.DEVNULL,
                            stdout=secondary, stderr=subprocess.PIPE, env={**loaded.env, "TERM": "xterm"})
    os.close(secondary)
    drawn = b""
    try:
        while chunk := os.read(primary, 65536):
            drawn += chunk
    except OSError:  # EIO: the process closed its terminal
        pass
    finally:
        os.close(primary)
    assert proc.wait(timeout=60) == 0
    table = ANSI.sub("", drawn.decode("utf-8")).replace("\r\n", "\n")
    assert_tails_shown(table, hit_uris(loaded), 80)


def test_wide_tables_show_whole_keys_then_ids(loaded: Rem) -> None:
    hits = loaded.ok("--format", "json", *QUERY).json()
    table = loaded.ok(*QUERY).out  # a pipe without $COLUMNS is 200 columns wide
    assert key_cells(table) == [hit["uri"] for hit in hits] and not any(hit["id"] in table for hit in hits)
    wider = loaded.ok(*QUERY, env={"COLUMNS": "240"}).out  # room for the id column too
    assert key_cells(wider) == [hit["uri"] for hit in hits] and all(hit["id"] in wider for hit in hits)


def test_machine_formats_do_not_depend_on_the_width(loaded: Rem) -> None:
    outputs = {fmt: loaded.ok("--format", fmt, *QUERY, env={"COLUMNS": "80"}).out for fmt in ("json", "jsonl", "csv")}
    hits = json.loads(outputs["json"])
    assert sorted(h["uri"] for h in hits) == sorted(d["uri"] for d in DOCS)
    assert next(iter(hits[0])) == "_score" and all(h["content"] in [d["content"] for d in DOCS] for h in hits)
    # byte for byte the rendering of before: indented JSON, one compact object per line, CSV with a header
    # made of the union of the keys and nested values as compact JSON
    assert outputs["json"] == json.dumps(hits, indent=2, ensure_ascii=False) + "\n"
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    assert outputs["jsonl"] == "".join(json.dumps(h, **compact) + "\n" for h in hits)
    header = list(dict.fromkeys(k for h in hits for k in h))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(header)
    for h in hits:
        writer.writerow(["" if h.get(k) is None else h[k] if isinstance(h[k], str) else json.dumps(h[k], **compact)
                         for k in header])
    assert outputs["csv"] == expected.getvalue()
    assert loaded.ok("--format", "jsonl", *QUERY, env={"COLUMNS": "200"}).out == outputs["jsonl"]


# -- the other tables with keys ----------------------------------------------------------------------------
def test_query_and_lookup_tables_keep_uri_tails(loaded: Rem) -> None:
    uris = sorted(d["uri"] for d in DOCS)
    rows = loaded.ok("query", "SELECT uri FROM resources ORDER BY uri").out  # cells of at most 60 characters
    shown = [line.strip("│ ") for line in rows.splitlines() if "chunk-000" in line]
    assert shown == [shorten_middle(uri, 60) for uri in uris] == [f"…/{uri.rsplit('/', 1)[1]}" for uri in uris]
    # two keys at 80 columns: the long `lookup` column wraps instead of crushing the others
    found = loaded.ok("--format", "json", "lookup", *uris[:2]).json()
    table = loaded.ok("lookup", *uris[:2], env={"COLUMNS": "80"}).out
    assert all(cell_len(line) <= 80 for line in table.splitlines())
    assert len(found) == 2 and all(e["id"] in table for e in found) and table.count("resources") == 2
