"""The BM25 postings behind hybrid search: tokenising, and postings that follow every write."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import numpy as np

from rem_db import Database
from rem_db.index.text_tokens import stem, tokens
from rem_db.storage.keyspace import STALE, prefix_range

NOTES = {"title": "notes", "description": "Notes.", "type": "object",
         "properties": {"key": {"type": "string"}, "body": {"type": "string"}},
         "embedding_fields": ["body"]}


def test_tokens_drop_stopwords_and_stem_lightly() -> None:
    assert tokens("Why do the cyclists ride in each other's slipstream?") == ["cyclist", "ride", "slipstream"]
    assert [stem(w) for w in ("cyclists", "batteries", "glasses", "erupting", "erupted", "bus", "gas")] == [
        "cyclist", "battery", "glass", "erupt", "erupt", "bus", "gas"]
    # an identifier counts by its parts and as a whole (exact model numbers match exactly)
    assert tokens("Model XJ-9000, 2025 edition") == ["model", "xj", "9000", "xj-9000", "2025", "edition"]


def test_postings_follow_inserts_updates_and_deletes(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema(NOTES)
        a = db.insert("notes", {"key": "a", "body": "The XJ-9000 pump needs a gasket."})
        db.insert("notes", {"key": "b", "body": "Gaskets wear out in cold weather."})
        fulltext = db._embedder.fulltext

        def found(word: str) -> list[str]:
            return [db.get(str(uuid.UUID(bytes=i)))["key"] for i, _ in fulltext.search("notes", word, 10)]

        assert found("xj") == ["a"] and sorted(found("gaskets")) == ["a", "b"]
        assert fulltext.stats("notes")["docs"] == 2
        db.update(a["id"], {"body": "Replaced by the model ZZ-1."})
        assert found("xj") == [] and found("zz") == ["a"]
        db.delete(a["id"], hard=True)
        assert found("zz") == [] and fulltext.stats("notes")["docs"] == 1
    with Database(tmp_path / "db") as db:  # totals persist
        assert db._embedder.fulltext.stats("notes")["docs"] == 1


WORDS = ["pump", "gasket", "valve", "seal", "bearing", "motor", "cable", "sensor", "filter", "hose", "clamp",
         "bracket", "rotor", "coil", "fuse", "relay", "XJ-9000", "ZZ-1", "cold", "weather", "leak", "noise", "wear",
         "repair", "replace", "inspect"]


def _doc(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14)))


def _ranked(db: Database, table: str, query: str, allowed: set[bytes] | None = None) -> list[tuple[str, float]]:
    hits = db._embedder.fulltext.search(table, query, 1000, allowed=allowed)
    return sorted((db.get(str(uuid.UUID(bytes=i)))["key"], round(score, 9)) for i, score in hits)


def _fulltext_keys(db: Database, table: str) -> list[bytes]:
    store, ks = db._embedder.fulltext.store, db._embedder.fulltext.ks
    return list(store.scan_keys("fulltext", *prefix_range(ks.fulltext_table(table))))


def test_bulk_written_postings_rank_exactly_like_single_ones_through_updates_deletes_and_drop(
        tmp_path: Path) -> None:
    """A batch of >= 64 new rows writes its postings as one segment (a key per term, not per term and row);
    search must rank exactly as if every posting had been written alone, also after rows of the segment are
    updated, deleted and inserted again (their segment entries go stale), and after a reopen."""
    rng = random.Random(7)
    texts = [_doc(rng) for _ in range(400)]
    queries = ["gasket", "xj-9000", "pump leak", "cold weather repair", "zz", "seal valve motor", "nothing"]
    path = tmp_path / "db"
    with Database(path) as db:
        for table in ("bulk", "single"):
            db.register_schema({**NOTES, "title": table})
        rows = [{"key": f"k{i}", "body": t} for i, t in enumerate(texts)]
        db.insert_batch("bulk", rows, vectors=np.ones((400, 8), dtype=np.float32))
        for start in range(0, 400, 40):  # batches under 64 rows: single postings
            db.insert_batch("single", rows[start:start + 40], vectors=np.ones((40, 8), dtype=np.float32))
        # the segment is a handful of keys per term; single postings are one key per (term, row)
        assert len(_fulltext_keys(db, "bulk")) < len(_fulltext_keys(db, "single")) / 2
        stats = db._embedder.fulltext.stats

        def same() -> None:
            assert stats("bulk")["docs"] == stats("single")["docs"]
            assert stats("bulk")["tokens"] == stats("single")["tokens"]
            for query in queries:
                assert _ranked(db, "bulk", query) == _ranked(db, "single", query), query
                top = [[round(score, 9) for _, score in db._embedder.fulltext.search(t, query, 5)]
                       for t in ("bulk", "single")]
                assert top[0] == top[1] == sorted(top[0], reverse=True), query  # the best 5, best first

        same()
        ids = {t: {r["key"]: r["id"] for r in db.query(f"SELECT id, key FROM {t}")} for t in ("bulk", "single")}
        for n in range(0, 400, 7):  # the same updates, deletes and re-inserts in both tables
            key = f"k{n}"
            for table in ("bulk", "single"):
                if n % 3 == 0:  # an update (an insert of an existing id upserts)
                    db.insert(table, {"key": key, "body": _doc(random.Random(n)), "id": ids[table][key]},
                              vector=np.ones(8, dtype=np.float32))
                elif n % 3 == 1:
                    db.delete(ids[table][key], hard=True)
                    db.insert(table, {"key": key, "body": _doc(random.Random(-n)), "id": ids[table][key]},
                              vector=np.ones(8, dtype=np.float32))
                else:
                    db.delete(ids[table][key], hard=True)
        table_prefix = db._embedder.fulltext.ks.fulltext_table("bulk")
        stale = [k for k in _fulltext_keys(db, "bulk") if k[len(table_prefix):][:1] == STALE]
        left = [n for n in range(0, 400, 7) if texts[n] and (  # every changed row of the segment left it
            n % 3 or sorted(tokens(_doc(random.Random(n)))) != sorted(tokens(texts[n])))]
        assert len(stale) == len(left) > 40
        same()
        allowed = {uuid.UUID(ids["bulk"][f"k{n}"]).bytes for n in range(0, 400, 2) if n % 7 or n % 3 != 2}
        allowed_single = {uuid.UUID(ids["single"][f"k{n}"]).bytes for n in range(0, 400, 2) if n % 7 or n % 3 != 2}
        assert _ranked(db, "bulk", "pump leak", allowed) == _ranked(db, "single", "pump leak", allowed_single)
        top = [[round(score, 9) for _, score in db._embedder.fulltext.search(t, "pump leak", 5, allowed=a)]
               for t, a in (("bulk", allowed), ("single", allowed_single))]
        assert top[0] == top[1] and len(top[0]) == 5
    with Database(path) as db:  # totals and segments persist
        stats = db._embedder.fulltext.stats
        for query in queries:
            assert _ranked(db, "bulk", query) == _ranked(db, "single", query), query
        db.remove_schema("bulk")
        assert _fulltext_keys(db, "bulk") == []  # the segments went with the table
        db.register_schema({**NOTES, "title": "bulk"})
        assert db._embedder.fulltext.search("bulk", "gasket", 10) == []
