"""The value-codec seam (docs/architecture.md): every value any part of the database writes passes through
the codec chosen at open, WAL records included, and reads get the decoded bytes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from rem_db.config import Settings
from rem_db.core import build_core
from rem_db.errors import StorageError
from rem_db.storage import wal
from rem_db.storage.families import COLUMN_FAMILIES
from rem_db.storage.store import Store

MARK = b"MASK"


class MaskCodec:
    """A reversible stand-in for a cipher: a marker, then the value XOR-ed with a key-derived byte. A value
    read back under another key, or without the marker, is refused."""

    families = frozenset(COLUMN_FAMILIES)

    def encode(self, cf: str, key: bytes, value: bytes) -> bytes:
        pad = (sum(key) + len(cf)) % 255 + 1
        return MARK + bytes(b ^ pad for b in value)

    def decode(self, cf: str, key: bytes, stored: bytes) -> bytes:
        if not stored.startswith(MARK):
            raise StorageError(f"{cf}: value at {key!r} was not written through the codec")
        pad = (sum(key) + len(cf)) % 255 + 1
        return bytes(b ^ pad for b in stored[len(MARK):])


def test_every_stored_value_goes_through_the_codec(tmp_path: Path) -> None:
    path = tmp_path / "db"
    core = build_core(path, "default", False, Settings.from_env(), codec=MaskCodec())
    try:
        core.schemas.register({"title": "Plant", "description": "Plants.", "type": "object",
                               "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
                               "embedding_fields": ["note"], "key_field": "name"})
        fern, cactus = core.entities.put_many("plant", [{"name": "fern", "note": "Ferns like shade"},
                                                         {"name": "cactus", "note": "Cacti like sun"}])
        core.graph.add_edge(fern["id"], cactus["id"], "next_to", {"distance": "1m"})
        assert core.search.search("shade loving plant", "plant", top_k=1)[0][0]["name"] == "fern"
        assert core.queries.run("SELECT name FROM plant WHERE name = 'cactus'") == [{"name": "cactus"}]
        seq = core.store.wal_seq()
    finally:
        core.close()

    raw = Store(path, read_only=True)  # the identity codec: the bytes as they are on disk
    try:
        values = [(cf, key, value) for cf in raw.cfs for key, value in raw.items(cf, b"", b"\xff" * 64)]
    finally:
        raw.close()
    assert {cf for cf, _, _ in values} >= {"entities", "edges", "reverse_edges", "adjacency", "embeddings",
                                            "fulltext", "meta", "wal"}
    plain = [(cf, key) for cf, key, value in values if not value.startswith(MARK)]
    # index entries with empty values too; only the WAL position (a sequence number, like the WAL's keys),
    # the vector index manifest (file sizes and digests) and the WAL time marks (sequence numbers and times,
    # replication/retention.py) are the store's own plaintext bookkeeping
    assert plain == [("meta", b"index.manifest/default/plant__local%3Aall-MiniLM-L6-v2"), ("meta", wal.POSITION_KEY),
                     ("meta", b"wal.timemarks")]
    assert not any(b"Ferns" in value or b"distance" in value for _, _, value in values)

    again = build_core(path, "default", True, Settings.from_env(), codec=MaskCodec())
    try:
        assert again.entities.lookup_batch(["fern"])["fern"][0]["note"] == "Ferns like shade"
        assert again.graph.edges(fern["id"])[0]["properties"] == {"distance": "1m"}
        assert again.store.wal_seq() == seq
        assert [s for s, _ in again.store.wal_records(1)] == list(range(1, seq + 1))  # records decode too
    finally:
        again.close()


def test_a_value_moved_to_another_key_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", codec=MaskCodec())
    try:
        batch = store.batch()
        batch.put("meta", b"a", b"value of a")
        store.write(batch)
        assert store.get("meta", b"a") == b"value of a"
        stolen = store.cfs["meta"].get(b"a")  # the stored bytes, copied under another key
        store.cfs["meta"][b"b"] = stolen
        assert store.get("meta", b"b") != b"value of a"
        store.cfs["meta"][b"c"] = b"plain"
        with pytest.raises(StorageError, match="not written through the codec"):
            store.get("meta", b"c")
    finally:
        store.close()
