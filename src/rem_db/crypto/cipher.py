"""The value codec of an encrypted database: ChaCha20-Poly1305 per value, bound to its column family and key.

Stored form: a version byte, a 12-byte nonce, the ciphertext and its 16-byte tag (29 bytes over the
plaintext). The associated data is the column family's id byte and the value's key, so a value copied under
another key (or into another family) fails authentication. Nonces are never reused under one key: each open
draws a random 8-byte prefix (and another after 2**32 values) and counts in the last 4 bytes, the same split libsodium's
secretstream and age use (a random part against collisions across processes and opens, a counter within).

Keys (SPEC §10): the data key is HKDF-SHA256 of the key pair's private key, salted with the database's id,
so every database made with one key pair has its own data key; the full-text term key is derived from the
data key. BM25 terms are stored as the first 16 bytes of HMAC-SHA256(term key, term).
"""

from __future__ import annotations

import functools
import hmac
import itertools
import os
import threading
import uuid
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import EncryptionError
from ..storage import wal
from ..storage.families import FAMILY_IDS

VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES
_BODY = 1 + NONCE_BYTES  # where the ciphertext starts
#: Values of these families are encrypted; the others hold ids, index keys, counts and vectors, plaintext by
#: design (docs/encryption.md says why for each). WAL records are not encrypted again as a whole: a record
#: is the batch's operations with their values as stored, so its entity and edge payloads are already this
#: codec's ciphertext and everything else in it is plaintext by design in its own family.
ENCRYPTED_FAMILIES = frozenset({"entities", "edges", "reverse_edges"})
_COUNTER_SPAN = 2**32
_FAMILY_BYTE = {name: bytes((n,)) for name, n in FAMILY_IDS.items()}
TERM_CACHE = 65536


def derive_key(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 to 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def data_key(private_key: bytes, db_id: bytes) -> bytes:
    """The data key of one database: bound to the key pair and the database's id."""
    return derive_key(private_key, db_id, b"rem-db data key v1")


def term_hasher(key: bytes) -> Callable[[str], bytes]:
    """The keyed hash that replaces a full-text term in posting keys (cached: queries repeat terms)."""
    term_key = derive_key(key, b"", b"rem-db fulltext terms v1")

    @functools.lru_cache(maxsize=TERM_CACHE)
    def hashed(term: str) -> bytes:
        return hmac.digest(term_key, term.encode("utf-8"), "sha256")[:16]

    return hashed


def key_check(key: bytes) -> str:
    """A value stored in the header that proves a derived data key is the database's own."""
    return hmac.digest(key, b"rem-db key check v1", "sha256")[:16].hex()


def _where(cf: str, key: bytes) -> str:
    """The stored value a key names, for error messages."""
    if cf == wal.CF:
        return f"WAL record {wal.seq_of(key)}"
    if cf == "entities" and len(key) >= 16:
        return f"entity {uuid.UUID(bytes=key[-16:])}"
    if cf in ("edges", "reverse_edges") and len(key) >= 16:  # the key ends with the edge's far end
        far = uuid.UUID(bytes=key[-16:])
        return f"edge to entity {far}" if cf == "edges" else f"edge from entity {far} (reverse index)"
    return f"value at key {key.hex()} ({cf})"


class CipherCodec:
    """:class:`~rem_db.storage.kv.ValueCodec` that encrypts the values of :data:`ENCRYPTED_FAMILIES`."""

    families = ENCRYPTED_FAMILIES

    def __init__(self, key: bytes) -> None:
        aead = ChaCha20Poly1305(key)
        self._encrypt, self._decrypt = aead.encrypt, aead.decrypt
        self._lock = threading.Lock()
        # (random prefix, counter) read as one tuple, so a value never pairs a new prefix with an old count
        self._state = (os.urandom(8), itertools.count())

    def _next_state(self, spent: tuple[bytes, itertools.count[int]]) -> tuple[bytes, itertools.count[int]]:
        with self._lock:
            if self._state is spent:  # the first thread past the end of the counter draws the next prefix
                self._state = (os.urandom(8), itertools.count())
            return self._state

    def encode(self, cf: str, key: bytes, value: bytes) -> bytes:
        state = self._state
        n = next(state[1])  # next() on a count is atomic
        while n >= _COUNTER_SPAN:
            state = self._next_state(state)
            n = next(state[1])
        nonce = state[0] + n.to_bytes(4, "big")
        return VERSION + nonce + self._encrypt(nonce, value, _FAMILY_BYTE[cf] + key)

    def decode(self, cf: str, key: bytes, stored: bytes) -> bytes:
        try:  # the version byte is checked only when decryption fails: the common path is one C call
            return self._decrypt(stored[1:_BODY], stored[_BODY:], _FAMILY_BYTE[cf] + key)
        except InvalidTag:
            if stored[:1] == VERSION:
                raise EncryptionError(f"{_where(cf, key)} fails authentication: it was altered on disk, or "
                                      f"moved from another key or database") from None
        except ValueError:  # shorter than a nonce
            pass
        raise EncryptionError(f"{_where(cf, key)} is not an encrypted value of this database "
                              f"(written without encryption, or damaged)")
