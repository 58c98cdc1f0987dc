"""Who may replicate, and the commands around it: the token refused on both sides with a clear error, a
non-loopback address refused without token and TLS, TLS with a self-signed certificate, an encrypted primary
(ciphertext replicated, the replica opens with the password), and `rem replication status|wal-status|promote`
against real processes."""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from compare import NOTES, assert_same, hashing_provider, note, stored, write_step
from procs import replicate, run_rem, stop, wait_position

from rem_db import Database, EncryptionError
from rem_db.errors import ConfigError, ReplicationError


@pytest.fixture
def primary_db(tmp_path: Path) -> Iterator[Database]:
    with hashing_provider():
        db = Database(tmp_path / "primary")
        db.register_schema(copy.deepcopy(NOTES))
        for n in range(12):
            write_step(db, n)
        try:
            yield db
        finally:
            db.close()


def test_a_wrong_token_is_refused_on_both_sides(primary_db: Database, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    server = primary_db.serve(port=0, token="s3cret")
    replica = tmp_path / "replica"
    with caplog.at_level(logging.WARNING, logger="rem_db.replication"):
        for args in (["--token", "wrong"], []):
            done = run_rem("--db-path", str(replica), "replicate", "--primary", server.address, *args)
            assert done.returncode == 1
            assert "error: the primary refused the replication token" in done.stderr
            assert "Traceback" not in done.stderr
    assert "wrong or missing replication token" in caplog.text  # the primary says so too
    done = run_rem("--db-path", str(replica), "replicate", "--primary", server.address, "--token", "s3cret")
    assert done.returncode == 0, done.stderr
    assert_same(primary_db, replica)


def test_non_loopback_needs_token_and_tls(primary_db: Database, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a loopback address"):
        primary_db.serve(host="0.0.0.0", port=0)
    with pytest.raises(ConfigError, match="TLS"):
        primary_db.serve(host="0.0.0.0", port=0, token="t")
    done = run_rem("--db-path", str(tmp_path / "primary2"), "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 1 and "error: refusing to serve replication on 0.0.0.0" in done.stderr
    done = run_rem("--db-path", str(tmp_path / "replica"), "replicate", "--primary", "10.11.12.13:50051")
    assert done.returncode == 1 and "error: refusing to replicate from 10.11.12.13:50051" in done.stderr
    assert "--tls-ca" in done.stderr


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_with_a_token(primary_db: Database, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = primary_db.serve(port=0, token="t0k", tls_cert=cert, tls_key=key)
    replica = Database.open_replica(tmp_path / "replica", server.address)
    try:
        with pytest.raises(ReplicationError, match="cannot replicate"):
            replica.replicate(token="t0k")  # plaintext to a TLS server fails
        assert replica.replicate(token="t0k", tls_ca=cert)["state"] == "synced"
        assert_same(primary_db, replica)
    finally:
        replica.close()


def test_an_encrypted_primary_replicates_ciphertext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("P8_HOME", str(tmp_path / "home"))
    with hashing_provider():
        primary = Database(tmp_path / "primary", password="pw")
        try:
            primary.register_schema(copy.deepcopy(NOTES))
            for n in range(8):
                primary.insert("notes", note(n))
            server = primary.serve(port=0)
            replica = Database.open_replica(tmp_path / "replica", server.address, password="pw")
            try:
                handle = replica.replicate(follow=True)
                assert handle.wait_for(primary._store.wal_seq())
                assert replica.encrypted
                primary.insert("notes", note(100))  # live, after the replica re-opened with the cipher
                assert handle.wait_for(primary._store.wal_seq())
                assert replica.lookup("n100")[0]["body"] == note(100)["body"]
                handle.stop()
                secret = note(3)["body"].encode()
                assert not any(secret in value for value in stored(replica).values())  # ciphertext, as stored
            finally:
                replica.close()
            assert_same(primary, tmp_path / "replica", password="pw")
        finally:
            primary.close()
    with pytest.raises(EncryptionError):
        Database(tmp_path / "replica", read_only=True)


def test_status_wal_status_and_promote_commands(primary_db: Database, tmp_path: Path) -> None:
    server = primary_db.serve(port=0)
    replica = tmp_path / "replica"
    follower = replicate(replica, server.port)
    try:
        wait_position(replica, primary_db._store.wal_seq())
        done = run_rem("--db-path", str(replica), "replication", "status", "--format", "json")
        assert done.returncode == 0, done.stderr
        shown = json.loads(done.stdout)
        assert shown["mode"] == "replica" and shown["state"] == "synced" and shown["primary"] == server.address
        assert shown["position"] == primary_db._store.wal_seq() and shown["lag_entries"] == 0
        assert shown["lag_ms"] is not None and shown["last_sync"]
        done = run_rem("--db-path", str(primary_db.path), "replication", "wal-status", "--format", "json")
        wal = json.loads(done.stdout)
        assert wal["sequence"] == primary_db._store.wal_seq() and wal["entries"] == wal["sequence"]
        assert wal["connected_replicas"] == 1 and wal["bytes"] > 0
    finally:
        stop(follower)
    done = run_rem("--db-path", str(replica), "insert", "notes", json.dumps(note(500)))
    assert done.returncode == 1 and "error: replica is read-only" in done.stderr
    done = run_rem("--db-path", str(replica), "replication", "status", "--format", "json")
    assert json.loads(done.stdout)["state"] == "disconnected"
    done = run_rem("--db-path", str(replica), "replication", "promote")
    assert done.returncode == 0 and "promoted" in done.stderr
    with hashing_provider(), Database(replica) as promoted:
        promoted.insert("notes", note(501))  # writable now
