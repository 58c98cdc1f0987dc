"""An encrypted database (SPEC §10, docs/encryption.md): every API surface round-trips, no content word reaches
a file, and every wrong way to open it is a clear EncryptionError that changes nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from core_helpers import PRODUCTS, kill_after_acks
from rem_db import Database, DatabaseError, EncryptionError
from rem_db.config import Settings
from rem_db.storage.store import Store

PW = "open sesame"
NOTES = {"title": "notes", "type": "object", "description": "Notes with an embedded body.",
         "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
         "key_field": "title", "embedding_fields": ["body"]}
PLAIN = {"title": "plain", "type": "object", "description": "Rows without embeddings.",
         "properties": {"title": {"type": "string"}, "body": {"type": "string"}}, "key_field": "title"}
MARKERS = [b"zorblaxquux", b"flimwhistle", b"quonkerbatch", b"snargleplume"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _fill(db: Database, tmp_path: Path) -> dict[str, str]:
    """Rows, edges, an ingested document and BM25-indexed text, each carrying one marker word outside every
    indexed and key field."""
    db.register_schema(copy.deepcopy(NOTES))
    db.register_schema(copy.deepcopy(PRODUCTS))
    note = db.insert("notes", {"title": "n1", "body": "the zorblaxquux recipe needs two eggs"})
    other = db.insert("notes", {"title": "n2", "body": "gardening with compost and patience"})
    product = db.insert("products", {"product_code": "P-1", "name": "kettle", "price": 12.5,
                                     "notes": "a kettle that whistles like a flimwhistle"})
    db.add_edge(note["id"], product["id"], "mentions", {"why": "quonkerbatch"})
    doc = tmp_path / "report.md"
    doc.write_text("# Quarterly report\n\nThe snargleplume project shipped on time.\n\nBudget stayed flat.\n")
    db.ingest(doc)
    db.wait_idle()
    return {"note": note["id"], "other": other["id"], "product": product["id"]}


def _files_containing(roots: list[Path], markers: list[bytes]) -> dict[bytes, list[str]]:
    found: dict[bytes, list[str]] = {m: [] for m in markers}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for marker in markers:
                    if marker in data:
                        found[marker].append(str(path.relative_to(root)))
    return found


@pytest.mark.parametrize("password", [PW, None], ids=["encrypted", "plaintext-control"])
def test_no_content_word_reaches_any_file(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
                                          password: str | None) -> None:
    monkeypatch.setenv("P8_ROCKSDB_COMPRESSION", "none")  # so the control can find the words
    path = tmp_path / "db"
    with Database(path, password=password) as db:
        _fill(db, tmp_path)
        live = _files_containing([path, home], MARKERS)  # memtable WAL files while open
    found = _files_containing([path, home], MARKERS)  # SSTs after the flush on close
    if password is None:
        assert all(found[m] or live[m] for m in MARKERS), found
    else:
        assert live == found == {m: [] for m in MARKERS}


def test_every_surface_works_on_an_encrypted_database(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "db"
    with Database(path, password=PW) as db:
        ids = _fill(db, tmp_path)
        assert db.encrypted and db.stats()["encrypted"]
        db.update(ids["other"], {"body": "gardening with compost, patience and rain"})
    with Database(path, password=PW) as db:
        assert db.get(ids["note"])["body"] == "the zorblaxquux recipe needs two eggs"
        assert db.lookup("P-1")[0]["name"] == "kettle"
        assert db.query("SELECT product_code FROM products WHERE price > 10") == [{"product_code": "P-1"}]
        assert db.query("SELECT title FROM notes WHERE body LIKE '%rain%'") == [{"title": "n2"}]
        assert db.search("eggs recipe", "notes", top_k=1)[0][0]["title"] == "n1"
        hybrid = db.search("zorblaxquux", "notes", top_k=1, hybrid=True)
        assert hybrid[0][0]["title"] == "n1"  # the hashed term still finds its row
        assert db.edges(ids["note"])[0]["properties"] == {"why": "quonkerbatch"}
        assert [e["entity"]["name"] for e in db.traverse(ids["note"], depth=1)] == ["kettle"]
        chunks = db.search("snargleplume project", "resources", top_k=1, hybrid=True)
        assert "snargleplume" in chunks[0][0]["content"]
        summary = db.export("notes", output=tmp_path / "notes.jsonl")
        assert summary["rows"] == 2 and b"zorblaxquux" in (tmp_path / "notes.jsonl").read_bytes()
        db.delete(ids["other"])
        assert db.count("notes") == 1
    with Database(path, password=PW, read_only=True) as db:
        assert db.count("notes") == 1 and db.get(ids["product"])["price"] == 12.5


def test_opening_it_wrongly_is_an_encryption_error_that_changes_nothing(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "db"
    with Database(path, password=PW) as db:
        db.register_schema(copy.deepcopy(NOTES))
        row = db.insert("notes", {"title": "n1", "body": "kept"})
        seq = db.stats()["wal_seq"]
    with pytest.raises(EncryptionError, match="is encrypted: open it with its password"):
        Database(path)
    with pytest.raises(EncryptionError, match="is encrypted"):
        Database(path, read_only=True)
    with pytest.raises(EncryptionError, match="wrong password"):
        Database(path, password="open sesame!")
    keys = home / "keys" / "private_key.json"
    saved = keys.read_bytes()
    keys.unlink()
    with pytest.raises(EncryptionError, match=r"private_key\.json is missing"):
        Database(path, password=PW)
    keys.write_bytes(saved[:40])
    with pytest.raises(EncryptionError, match=r"key file .* is corrupt"):
        Database(path, password=PW)
    keys.write_bytes(saved)
    with Database(path, password=PW) as db:
        assert db.get(row["id"])["body"] == "kept" and db.stats()["wal_seq"] == seq


def test_a_database_of_another_key_pair_names_both_fingerprints(tmp_path: Path, home: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "db"
    Database(path, password=PW).close()
    monkeypatch.setenv("P8_HOME", str(tmp_path / "other-home"))
    with Database(tmp_path / "other-db", password=PW):
        pass  # makes the other home's key pair, with the same password
    with pytest.raises(EncryptionError, match="encrypted with another key pair"):
        Database(path, password=PW)


def test_a_password_on_a_plaintext_database_is_refused(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "db"
    with Database(path) as db:
        db.register_schema(copy.deepcopy(NOTES))
        db.insert("notes", {"title": "n1", "body": "plain"})
    with pytest.raises(EncryptionError, match="is not encrypted: open it without a password"):
        Database(path, password=PW)
    assert not (home / "keys").exists()  # nothing was made on the way to the error
    with Database(path) as db:
        assert db.count("notes") == 1 and not db.encrypted


def test_the_password_comes_from_p8_password(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_PASSWORD", PW)
    with Database(tmp_path / "db") as db:
        assert db.encrypted
    monkeypatch.delenv("P8_PASSWORD")
    with pytest.raises(EncryptionError, match="is encrypted"):
        Database(tmp_path / "db")


def _raw(path: Path) -> Store:
    """The store as an attacker with write access sees it: no codec, no WAL of our own."""
    return Store(path, settings=Settings.from_env().replace(wal_enabled=False))


def _entity_key(store: Store, id_text: str) -> bytes:
    import uuid

    id16 = uuid.UUID(id_text).bytes
    return next(k for k in store.scan_keys("entities", b"", b"\xff" * 64) if k.endswith(id16))


def test_a_tampered_or_moved_value_is_refused_and_other_rows_stay_readable(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "db"
    with Database(path, password=PW) as db:
        db.register_schema(copy.deepcopy(PLAIN))
        a, b, c = (db.insert("plain", {"title": t, "body": f"body {t}"}) for t in ("a", "b", "c"))
    store = _raw(path)
    try:
        key_a, key_b = _entity_key(store, a["id"]), _entity_key(store, b["id"])
        stored = bytearray(store.get("entities", key_a))
        stored[len(stored) // 2] ^= 0x01
        batch = store.batch()
        batch.put("entities", key_a, bytes(stored))
        batch.put("entities", key_b, store.get("entities", _entity_key(store, c["id"])))  # c's value under b
        store.write(batch)
    finally:
        store.close()
    with Database(path, password=PW) as db:
        with pytest.raises(EncryptionError, match=f"entity {a['id']} fails authentication"):
            db.get(a["id"])
        with pytest.raises(EncryptionError, match=f"entity {b['id']} fails authentication"):
            db.get(b["id"])
        assert db.get(c["id"])["body"] == "body c"


def test_a_bit_flipped_in_an_sst_file_is_a_typed_error_never_garbage(tmp_path: Path, home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_ROCKSDB_COMPRESSION", "none")
    path = tmp_path / "db"
    with Database(path, password=PW) as db:
        db.register_schema(copy.deepcopy(PLAIN))
        rows = db.insert_batch("plain", [{"title": f"n{i}", "body": "x" * 200 + str(i)} for i in range(300)])
    victim = rows[150]
    store = _raw(path)
    try:
        stored = store.get("entities", _entity_key(store, victim["id"]))
    finally:
        store.close()
    flipped = 0
    for sst in path.glob("*.sst"):  # the entities file, and the WAL record that carries the same ciphertext
        data = bytearray(sst.read_bytes())
        at = data.find(stored[13:60])
        if at >= 0:
            data[at + 20] ^= 0x04
            sst.write_bytes(bytes(data))
            flipped += 1
    assert flipped
    with Database(path, password=PW, read_only=True) as db:
        with pytest.raises(DatabaseError, match=r"Corruption|fails authentication"):
            db.get(victim["id"])
        readable = 0
        for row in rows:
            try:
                got = db.get(row["id"])
            except DatabaseError:
                continue
            assert got["body"] == row["body"]  # a row that reads is never garbage
            readable += 1
        assert readable >= 250  # only the damaged block is lost


WRITE_LOOP = """
import sys
from rem_db import Database
db = Database(sys.argv[1], password=sys.argv[2])
db.register_schema({"title": "Log", "type": "object", "description": "A log.", "properties": {"n": {"type": "integer"},
                    "text": {"type": "string"}}, "key_field": "n"})
print("ready", flush=True)
n = 0
while True:
    n += 1
    db.insert("log", {"n": n, "text": "entry %d" % n})
    print(n, flush=True)
"""


def test_kill_during_encrypted_writes_loses_no_acknowledged_write(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "db"
    acked = kill_after_acks(WRITE_LOOP, [str(path), PW], acks=40, env={"P8_HOME": str(home)})
    with Database(path, password=PW, read_only=True) as db:
        stored = {row["n"]: row["text"] for row in db.query("SELECT n, text FROM log")}
    assert all(stored[n] == f"entry {n}" for n in acked)


INIT_LOOP = """
import sys
from pathlib import Path
from rem_db import Database
root = Path(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    n += 1
    Database(root / ("db%d" % n), password=sys.argv[2]).close()
    print(n, flush=True)
"""


def test_kill_during_init_leaves_a_database_that_opens_with_its_password(tmp_path: Path, home: Path) -> None:
    kill_after_acks(INIT_LOOP, [str(tmp_path), PW], acks=3, env={"P8_HOME": str(home)})
    made = sorted(tmp_path.glob("db*"))
    assert len(made) >= 3
    for path in made:  # the one killed mid-init too: it is finished on its next open
        with Database(path, password=PW) as db:
            assert db.encrypted and "resources" in {s["short_name"] for s in db.list_schemas()}
        with pytest.raises(EncryptionError, match="is encrypted"):
            Database(path)
