"""Opening a database with or without a password (SPEC §10): the header in the ``key_material`` family and the
decisions around it.

The header (plaintext JSON under ``key_material``/``header``) records the format, the database's random
16-byte id, the fingerprint of the key pair it was made with and a check value of its data key. It is
written once, by the first read-write open with a password of a database that holds no entities yet, before
anything else is written. Every other combination is refused before anything on disk changes:

==========================  ======================  =============================================
header                      password                outcome
==========================  ======================  =============================================
none, no entities yet       given (read-write)      becomes encrypted (header written)
none, entities present      given                   EncryptionError: not encrypted
present                     none                    EncryptionError: encrypted, give the password
present                     wrong / other key pair  EncryptionError saying which
==========================  ======================  =============================================
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import EncryptionError
from ..storage.kv import ValueCodec
from ..storage.store import Store

if TYPE_CHECKING:
    from .keys import KeyPair

CF = "key_material"
HEADER_KEY = b"header"
FORMAT = "rem-db encrypted v1"


@dataclass(frozen=True)
class Unlocked:
    """What an encrypted database's services need: the value codec and the full-text term encoder."""

    codec: ValueCodec
    term_encoder: Callable[[str], bytes]


def read_header(store: Store) -> dict[str, Any] | None:
    """The encryption header, or None for a plaintext database."""
    if CF not in store.cfs:
        return None
    raw = store.get(CF, HEADER_KEY)
    if raw is None:
        return None
    try:
        header = orjson.loads(raw)
        if header["format"] != FORMAT:
            raise EncryptionError(f"{store.path} uses an unknown encryption format {header['format']!r}")
        return dict(header)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise EncryptionError(f"the encryption header of {store.path} is corrupt ({exc})") from None


def is_encrypted(store: Store) -> bool:
    return read_header(store) is not None


def unlock(store: Store, password: str | None, home: Path) -> Unlocked | None:
    """Check ``password`` against the store's header (making the header on a new database); the codec and
    term encoder to use, or None for a plaintext database opened without a password."""
    header = read_header(store)
    if password is None:
        if header is not None:
            raise EncryptionError(f"{store.path} is encrypted: open it with its password (password=... or "
                                  f"P8_PASSWORD; `rem --password ...`)")
        return None
    if header is None:
        if store.last_key("entities") is not None:
            raise EncryptionError(f"{store.path} is not encrypted: open it without a password (a plaintext "
                                  f"database cannot be encrypted in place; export it and load the export into "
                                  f"a new database made with a password)")
        if store.read_only:
            raise EncryptionError(f"{store.path} has no encryption header yet: create it with a read-write open "
                                  f"(`rem init --password ...`) before reading it with a password")
        from .keys import load_or_generate

        return _initialise(store, load_or_generate(home, password))
    from .cipher import CipherCodec, data_key, key_check, term_hasher
    from .keys import key_dir, load

    pair = load(home, password)
    if pair.fingerprint != header.get("key_fingerprint"):
        raise EncryptionError(f"{store.path} was encrypted with another key pair (fingerprint "
                              f"{header.get('key_fingerprint')}); the key pair in {key_dir(home)} is "
                              f"{pair.fingerprint}: set P8_HOME to the home holding this database's keys")
    try:
        db_id = bytes.fromhex(str(header["db_id"]))
    except (KeyError, ValueError):
        raise EncryptionError(f"the encryption header of {store.path} is corrupt (db_id)") from None
    key = data_key(pair.private, db_id)
    if key_check(key) != header.get("check"):
        raise EncryptionError(f"the encryption header of {store.path} does not match its key pair "
                              f"(check value differs): the header was altered")
    return Unlocked(CipherCodec(key), term_hasher(key))


def _initialise(store: Store, pair: KeyPair) -> Unlocked:
    from .cipher import CipherCodec, data_key, key_check, term_hasher

    db_id = os.urandom(16)
    key = data_key(pair.private, db_id)
    header = {"format": FORMAT, "cipher": "chacha20-poly1305", "key_derivation": "hkdf-sha256",
              "db_id": db_id.hex(), "key_fingerprint": pair.fingerprint, "check": key_check(key)}
    batch = store.batch()
    batch.put(CF, HEADER_KEY, orjson.dumps(header))
    store.write(batch)
    return Unlocked(CipherCodec(key), term_hasher(key))
