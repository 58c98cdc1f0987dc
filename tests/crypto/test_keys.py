"""The password-wrapped key pair under $P8_HOME/keys (docs/encryption.md, Keys): real Argon2id and
ChaCha20-Poly1305, real files, a real kill -9 during rekey."""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path

import pytest

from core_helpers import kill_after_acks
from rem_db import EncryptionError, generate_key_pair, rekey
from rem_db.crypto import keys


def test_a_key_pair_unwraps_with_its_password_only(tmp_path: Path) -> None:
    fingerprint = generate_key_pair("correct horse", home=tmp_path)
    private = tmp_path / "keys" / "private_key.json"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "public_key.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    doc = json.loads(private.read_text())
    assert doc["kdf"]["name"] == "argon2id" and doc["kdf"]["memory_kib"] == 64 * 1024
    assert keys.load(tmp_path, "correct horse").fingerprint == fingerprint
    with pytest.raises(EncryptionError, match="wrong password"):
        keys.load(tmp_path, "Correct horse")


def test_key_gen_never_overwrites_a_key_pair(tmp_path: Path) -> None:
    first = generate_key_pair("pw", home=tmp_path)
    before = (tmp_path / "keys" / "private_key.json").read_bytes()
    with pytest.raises(EncryptionError, match="already exists"):
        generate_key_pair("other", home=tmp_path)
    assert (tmp_path / "keys" / "private_key.json").read_bytes() == before
    assert keys.load(tmp_path, "pw").fingerprint == first


def test_rekey_changes_the_password_and_keeps_the_key(tmp_path: Path) -> None:
    fingerprint = generate_key_pair("old", home=tmp_path)
    assert rekey("old", "new", home=tmp_path) == fingerprint
    assert keys.load(tmp_path, "new").fingerprint == fingerprint
    with pytest.raises(EncryptionError, match="wrong password"):
        keys.load(tmp_path, "old")
    with pytest.raises(EncryptionError, match="wrong password"):
        rekey("old", "newer", home=tmp_path)  # the old password cannot rekey either
    with pytest.raises(EncryptionError, match="new password is empty"):
        rekey("new", "", home=tmp_path)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: p.unlink(), "private key file private_key.json is missing"),
    (lambda p: p.write_text("{not json"), "is corrupt"),
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "nonce": "!!"})), "not base64"),
    # a weaker KDF parameter is authenticated with the key: it cannot be lowered to speed up guessing
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()),
                                        "kdf": {**json.loads(p.read_text())["kdf"], "iterations": 1}})),
     "wrong password .*altered"),
])
def test_missing_or_damaged_key_files_are_named(tmp_path: Path, damage, message: str) -> None:
    generate_key_pair("pw", home=tmp_path)
    damage(tmp_path / "keys" / "private_key.json")
    with pytest.raises(EncryptionError, match=message):
        keys.load(tmp_path, "pw")


def test_an_empty_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EncryptionError, match="password is empty"):
        generate_key_pair("", home=tmp_path)
    assert not (tmp_path / "keys").exists()


REKEY_LOOP = """
import sys
from pathlib import Path
from rem_db import rekey
home = Path(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    rekey("pw-%d" % (n % 2), "pw-%d" % ((n + 1) % 2), home=home)
    n += 1
    print(n, flush=True)
"""


def test_kill_during_rekey_leaves_the_old_or_the_new_password(tmp_path: Path) -> None:
    fingerprint = generate_key_pair("pw-0", home=tmp_path)
    acked = kill_after_acks(REKEY_LOOP, [str(tmp_path)], acks=2)
    done = acked[-1]
    opened = []
    for candidate in (done, done + 1):  # the rekey in flight may have finished before the kill
        with contextlib.suppress(EncryptionError):
            opened.append(keys.load(tmp_path, f"pw-{candidate % 2}").fingerprint)
    assert opened == [fingerprint]
