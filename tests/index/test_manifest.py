"""Index file manifests (index/manifest.py): xxh3-128 digests for new saves, blake3 ones of older manifests
still verified, and digests computed ahead while the database opens never trusted for a file changed since."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import orjson
import pytest
from vector_items import ITEMS, unit

from rem_db import Database
from rem_db.index import manifest
from rem_db.index.manifest import ManifestMismatch


def saved_db(path: Path) -> Path:
    """A database with one saved vector index; returns the index's base path."""
    with Database(path) as db:
        db.register_schema(ITEMS)
        rows = [{"key": f"k{n}", "doc": f"item {n}", "group": "a"} for n in range(300)]
        db.insert_batch("items", rows, vectors=unit(np.random.default_rng(2).standard_normal((300, 16))))
        db.wait_idle()
        base = next(iter(db._indexes.handles))
        return db._indexes.base(*base)


def paths(base: Path) -> list[Path]:
    return [base.with_name(base.name + s) for s in (".json", ".graph", ".ids.npy", ".live.npy")]


def test_a_save_records_xxh3_digests(tmp_path: Path) -> None:
    base = saved_db(tmp_path / "db")
    files = orjson.loads(base.with_name(base.name + ".manifest.json").read_bytes())["files"]
    assert set(files) == {".json", ".graph", ".ids.npy", ".live.npy"}
    for size, digest in files.values():
        assert re.fullmatch(r"xxh3:[0-9a-f]{32}", digest) and size > 0


def test_an_older_blake3_manifest_is_still_verified(tmp_path: Path) -> None:
    base = saved_db(tmp_path / "db")
    with Database(tmp_path / "db") as db:
        db.search(vector=np.ones(16, dtype=np.float32), schema="items", top_k=1)
        db.wait_idle()  # the index is loaded (and its manifest checked) before the old one is put back
        manifests = db._indexes.manifests
        seq = manifests.verify(base, paths(base))
        legacy = {"seq": seq, "files": {p.name[len(base.name):]: [p.stat().st_size, manifest.digest(p, like="")]
                                        for p in paths(base)}}
        raw = orjson.dumps(legacy, option=orjson.OPT_SORT_KEYS)
        base.with_name(base.name + ".manifest.json").write_bytes(raw)
        manifests.store.put_local("meta", manifests._key(base), raw)
        assert all(re.fullmatch(r"[0-9a-f]{64}", d) for _, d in legacy["files"].values())
        assert manifests.verify(base, paths(base)) == seq
        graph = base.with_name(base.name + ".graph")
        data = bytearray(graph.read_bytes())
        data[-5] ^= 0x10  # one bit, same size
        graph.write_bytes(bytes(data))
        with pytest.raises(ManifestMismatch, match="does not match its checksum"):
            manifests.verify(base, paths(base))


def test_digests_computed_ahead_are_used_only_for_unchanged_files(tmp_path: Path) -> None:
    base = saved_db(tmp_path / "db")
    with Database(tmp_path / "db", read_only=True) as db:
        manifests = db._indexes.manifests
        manifest.prefetch(base.parent)
        assert manifests.verify(base, paths(base)) >= 0  # unchanged: the digests computed ahead match
        manifest.prefetch(base.parent)
        time.sleep(0.2)  # hashed ahead before the damage below
        graph = base.with_name(base.name + ".graph")
        data = bytearray(graph.read_bytes())
        data[100] ^= 0x01
        stat = graph.stat()
        graph.write_bytes(bytes(data))  # same size; even with the old modification time put back ...
        os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        with pytest.raises(ManifestMismatch, match="does not match its checksum"):  # ... the change is seen
            manifests.verify(base, paths(base))


def test_a_damaged_file_found_by_the_digest_computed_ahead_is_rebuilt(tmp_path: Path) -> None:
    base = saved_db(tmp_path / "db")
    graph = base.with_name(base.name + ".graph")
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0x40
    graph.write_bytes(bytes(data))
    query = unit(np.random.default_rng(2).standard_normal((300, 16)))[7]
    with Database(tmp_path / "db") as db:  # opening hashes the files ahead: the damage is found all the same
        hits = db.search(vector=query, schema="items", top_k=3)
        assert hits[0][0]["key"] == "k7" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
        db.wait_idle()
        assert db.stats()["details"]["items"]["vector_index"]["kind"] == "hnsw"
    with Database(tmp_path / "db") as db:
        assert manifest.digest(graph) == orjson.loads(
            base.with_name(base.name + ".manifest.json").read_bytes())["files"][".graph"][1]


def test_a_read_write_open_upgrades_a_blake3_manifest(tmp_path: Path) -> None:
    base = saved_db(tmp_path / "db")
    with Database(tmp_path / "db") as db:
        db.search(vector=np.ones(16, dtype=np.float32), schema="items", top_k=1)
        db.wait_idle()  # the index is loaded (and its manifest checked) before the old one is put back
        manifests = db._indexes.manifests
        seq = manifests.verify(base, paths(base))
        legacy = {"seq": seq, "files": {p.name[len(base.name):]: [p.stat().st_size, manifest.digest(p, like="")]
                                        for p in paths(base)}}
        raw = orjson.dumps(legacy, option=orjson.OPT_SORT_KEYS)
        base.with_name(base.name + ".manifest.json").write_bytes(raw)
        manifests.store.put_local("meta", manifests._key(base), raw)
    with Database(tmp_path / "db", read_only=True) as db:  # a read-only handle verifies and leaves it
        db.search(vector=np.ones(16, dtype=np.float32), schema="items", top_k=1)
        db.wait_idle()
    assert base.with_name(base.name + ".manifest.json").read_bytes() == raw
    with Database(tmp_path / "db") as db:
        hits = db.search(vector=np.ones(16, dtype=np.float32), schema="items", top_k=1)
        db.wait_idle()
        assert hits
    upgraded = orjson.loads(base.with_name(base.name + ".manifest.json").read_bytes())
    assert upgraded["seq"] == seq and all(d.startswith("xxh3:") for _, d in upgraded["files"].values())
    with Database(tmp_path / "db") as db:
        assert db._indexes.manifests.verify(base, paths(base)) == seq
