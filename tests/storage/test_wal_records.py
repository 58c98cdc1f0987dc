"""WAL records (storage/wal.py): any batch's operations round-trip through the record format, and the log
alone rebuilds the store (what a replica does)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core_helpers import replayed_state, stored_state
from rem_db import Database
from rem_db.storage import wal
from rem_db.storage.families import COLUMN_FAMILIES, FAMILY_IDS

families = st.sampled_from([cf for cf in COLUMN_FAMILIES if cf != "wal"])
operation = st.tuples(st.sampled_from(["put", "delete", "keys"]), families,
                      st.lists(st.binary(max_size=40), min_size=1, max_size=5), st.binary(max_size=300))


@given(st.lists(operation, max_size=30))
def test_operations_round_trip_through_a_record(ops: list[tuple[str, str, list[bytes], bytes]]) -> None:
    cfs, stored_keys, values = bytearray(), [], []
    expected: list[tuple[str, bytes, bytes | None]] = []
    for kind, cf, keys, value in ops:
        if kind == "put":
            cfs.append(FAMILY_IDS[cf])
            stored_keys.append(keys[0])
            values.append(value)
            expected.append((cf, keys[0], value))
        elif kind == "delete":
            cfs.append(FAMILY_IDS[cf] | wal.DELETE_FLAG)
            stored_keys.append(keys[0])
            values.append(b"")
            expected.append((cf, keys[0], None))
        else:
            cfs += bytes((FAMILY_IDS[cf],)) * len(keys)
            stored_keys += keys
            values += [b""] * len(keys)
            expected += [(cf, key, b"") for key in keys]
    assert wal.decode(wal.encode(cfs, stored_keys, values)) == expected


def test_the_log_alone_rebuilds_every_column_family(tmp_path: Path) -> None:
    with Database(tmp_path / "db") as db:
        db.register_schema({"title": "Note", "description": "Notes.", "type": "object",
                            "properties": {"name": {"type": "string"}, "body": {"type": "string"},
                                           "tag": {"type": "string"}},
                            "key_field": "name", "indexed_fields": ["tag"], "embedding_fields": ["body"]})
        rows = db.insert_batch("note", [{"name": f"n{i}", "body": f"note number {i}", "tag": f"t{i % 3}"}
                                        for i in range(6)])
        db.add_edges([(rows[i]["id"], rows[(i + 1) % 6]["id"], "next") for i in range(6)])
        db.update(rows[0]["id"], {"body": "changed text", "tag": "t9"})
        db.delete(rows[1]["id"])
        db.delete(rows[2]["id"], hard=True)
        middle = db.stats()["wal_seq"]
        at_middle = stored_state(db)
        db.remove_edge(rows[3]["id"], rows[4]["id"], "next")
        assert replayed_state(db) == stored_state(db)
        assert replayed_state(db, upto=middle) == at_middle  # every prefix of the log is a committed state
        families = {cf for cf, _ in stored_state(db)}
        assert families >= {"entities", "field_index", "key_index", "edges", "reverse_edges", "adjacency",
                            "embeddings", "fulltext", "meta"}
