"""Shared by the replication tests (imported as ``compare``): a deterministic embedding provider (no model to
load), a workload that touches every kind of write, and :func:`assert_same`, which checks that a replica
holds exactly what its primary holds: every stored key and value, every row with its vector, every edge, a
search, an SQL query and a traversal."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rem_db import Database
from rem_db.embeddings.interface import normalise
from rem_db.embeddings.registry import register_provider, unregister_provider

PREFIX = "replhash"
SPEC = f"{PREFIX}:32"
WORDS = ["volcano", "bread", "chess", "honey", "train", "glacier", "violin", "orchard", "comet", "harbour",
         "lantern", "desert", "falcon", "quarry", "meadow", "reef", "tundra", "canyon", "marble", "saffron"]
NOTES: dict[str, Any] = {
    "title": "notes", "type": "object", "description": "Short notes, embedded for search.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}, "n": {"type": "integer"},
                   "kind": {"type": "string"}},
    "required": ["key", "body"], "key_field": "key", "embedding_fields": ["body"], "indexed_fields": ["n", "kind"],
    "embedding_provider": SPEC,
}
#: ``meta`` keys a directory keeps for itself (never replicated): WAL position and time marks, vector index
#: manifests, the replica role
LOCAL_META = (b"wal.position", b"wal.timemarks", b"index.manifest/", b"replication.")


class HashingProvider:
    """Each word adds one to the dimension its hash picks; rows are L2-normalised."""

    def __init__(self, model: str) -> None:
        self.spec = f"{PREFIX}:{model}"
        self.dimensions = int(model)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest()) % self.dimensions] += 1
        return normalise(out)


def register() -> None:
    register_provider(PREFIX, lambda model, settings: HashingProvider(model), replace=True)


@contextmanager
def hashing_provider() -> Iterator[None]:
    register()
    try:
        yield
    finally:
        unregister_provider(PREFIX)


def note(n: int) -> dict[str, Any]:
    a, b, c = WORDS[n % 20], WORDS[(n * 7 + 3) % 20], WORDS[(n * 11 + 5) % 20]
    return {"key": f"n{n}", "body": f"{a} {b} {c} note {n}", "n": n, "kind": "odd" if n % 2 else "even"}


def write_step(db: Database, n: int) -> None:
    """One write of the mixed workload (step ``n``): inserts, batches, updates, soft and hard deletes, edges."""
    kind = n % 7
    if kind in (0, 1, 2):
        db.insert("notes", note(n))
    elif kind == 3:
        db.insert_batch("notes", [note(n * 1000 + i) for i in range(5)])
    elif kind == 4:
        rows = db.lookup(f"n{n - 4}")
        if rows:
            db.update(rows[0]["id"], {"body": f"{WORDS[n % 20]} updated {n}"})
        else:
            db.insert("notes", note(n))
    elif kind == 5:
        a, b = db.lookup(f"n{n - 5}"), db.lookup(f"n{n - 4}")
        if a and b:
            db.add_edge(a[0]["id"], b[0]["id"], "follows", {"step": n})
        else:
            db.insert("notes", note(n))
    else:
        rows = db.lookup(f"n{(n - 3) * 1000 + n % 5}")  # a row of the batch three steps back
        if rows:
            db.delete(rows[0]["id"], hard=n % 2 == 0)
        else:
            db.insert("notes", note(n))


def ranking(results: list[tuple[dict[str, Any], float]]) -> tuple[list[float], list[str]]:
    """Search results in a form equal for equal answers: equal scores may come in any order, and the ties of
    the last score may be cut anywhere."""
    hits = [(round(score, 4), str(e["id"])) for e, score in results]
    last = hits[-1][0] if hits else None
    return sorted(score for score, _ in hits), sorted(i for score, i in hits if score != last)


def stored(db: Database) -> dict[tuple[str, bytes], bytes]:
    """Every replicated key and value of the store, as stored: ciphertext in an encrypted database (read
    under the value codec), the WAL records included."""
    store = db._store
    return {(cf, key): value for cf in store.cfs
            for key, value in store.cfs[cf].items()
            if cf != "meta" or not key.startswith(LOCAL_META)}


def visible(db: Database, table: str = "notes") -> dict[str, Any]:
    """What users read: rows with vectors and edges, a search, an SQL query and a traversal."""
    rows = {}
    for row in db.rows(table, include_deleted=True):
        full = db.get(row["id"], include_deleted=True, include_embeddings=True)
        full["_edges"] = sorted((e["dst"], e["rel_type"]) for e in db.edges(row["id"]))
        rows[str(row["id"])] = full
    search = ranking(db.search("volcano honey note", table, top_k=10))
    sql = db.query(f"SELECT key, n, kind FROM {table} WHERE kind = 'odd' ORDER BY n LIMIT 50")
    counts = db.query(f"SELECT kind, count(*) AS c FROM {table} GROUP BY kind ORDER BY kind")
    start = next((r for r in rows.values() if r["_edges"] and not r.get("deleted_at")), None)
    walk = [(str(hop["entity"]["id"]), hop["depth"]) for hop in db.traverse(start["id"], depth=3)] if start else []
    return {"rows": rows, "search": search, "sql": sql, "counts": counts, "traverse": walk,
            "tables": sorted(s["short_name"] for s in db.list_schemas())}


def assert_same(primary: Path | Database, replica: Path | Database, password: str | None = None,
                table: str = "notes") -> dict[str, Any]:
    """Check that ``replica`` holds exactly what ``primary`` holds (paths are opened read-only, so a live
    writer or follower may keep them); returns the replica's visible contents."""
    register()  # kept registered: the caller may hold it too
    dbs = [Database(p, read_only=True, password=password) if isinstance(p, Path) else p
           for p in (primary, replica)]
    try:
        a, b = dbs
        assert a._store.wal_seq() == b._store.wal_seq(), "replica position differs"
        sa, sb = stored(a), stored(b)
        missing = sorted(k for k in sa if k not in sb)[:5]
        extra = sorted(k for k in sb if k not in sa)[:5]
        differ = sorted(k for k in sa if k in sb and sa[k] != sb[k])[:5]
        assert not (missing or extra or differ), f"stores differ: missing {missing} extra {extra} differ {differ}"
        va, vb = visible(a, table), visible(b, table)
        assert va == vb
        return vb
    finally:
        for given, db in zip((primary, replica), dbs, strict=True):
            if isinstance(given, Path):
                db.close()


def wal_records(db: Database) -> list[tuple[int, bytes]]:
    return [(int.from_bytes(k, "big"), v) for k, v in db._store.items("wal", b"", b"\xff" * 9)]
