"""The key pair under ``$P8_HOME/keys/`` (SPEC §10): an Ed25519 private key wrapped by a password, and its
public key.

``private_key.json`` holds the raw private key encrypted with ChaCha20-Poly1305 under a key derived from the
password by Argon2id (random 16-byte salt; the parameters are stored with it, so they can be raised later
without breaking old files). The file's other fields are the associated data, so changing a parameter or the
public key makes unwrapping fail instead of silently deriving another key. ``public_key.pem`` is the public
key in PEM form (what a database records as its key's fingerprint). Files are replaced atomically (temporary
file, fsync, rename), so a crash during key-gen or rekey leaves the old file or the new one.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from ..errors import EncryptionError

KEY_DIR = "keys"
PRIVATE_FILE = "private_key.json"
PUBLIC_FILE = "public_key.pem"
FORMAT = "rem-db key v1"
#: Argon2id cost (RFC 9106's second recommended option, ~130 ms here): raised in new files only.
ARGON2_ITERATIONS = 3
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_LANES = 4


@dataclass(frozen=True)
class KeyPair:
    """An unwrapped key pair: the raw 32-byte Ed25519 private key and its raw public key."""

    private: bytes
    public: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, hex (first 16 bytes): names the key pair in errors and headers."""
        return hashlib.sha256(self.public).hexdigest()[:32]


def key_dir(home: Path) -> Path:
    return Path(home).expanduser() / KEY_DIR


def _check_password(password: str, what: str = "password") -> bytes:
    if not isinstance(password, str) or not password:
        raise EncryptionError(f"the {what} is empty: give a non-empty password")
    return password.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, field: str, path: Path) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise EncryptionError(f"key file {path} is corrupt: field {field!r} is not base64") from None


def _associated(doc: dict[str, Any]) -> bytes:
    """Every field but the ciphertext and nonce, canonically: bound to the wrapped key."""
    return orjson.dumps({k: doc[k] for k in sorted(doc) if k not in ("nonce", "ciphertext")},
                        option=orjson.OPT_SORT_KEYS)


def _derive(password: bytes, salt: bytes, iterations: int, memory_kib: int, lanes: int) -> bytes:
    return Argon2id(salt=salt, length=32, iterations=iterations, lanes=lanes,
                    memory_cost=memory_kib).derive(password)


def _wrap(pair: KeyPair, password: bytes) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    doc: dict[str, Any] = {
        "format": FORMAT, "algorithm": "ed25519", "public_key": _b64(pair.public),
        "kdf": {"name": "argon2id", "salt": _b64(salt), "iterations": ARGON2_ITERATIONS,
                "memory_kib": ARGON2_MEMORY_KIB, "lanes": ARGON2_LANES},
        "cipher": "chacha20-poly1305",
    }
    wrapping = _derive(password, salt, ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_LANES)
    doc["nonce"] = _b64(nonce)
    doc["ciphertext"] = _b64(ChaCha20Poly1305(wrapping).encrypt(nonce, pair.private, _associated(doc)))
    return doc


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _public_pem(public: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(public).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _save(directory: Path, pair: KeyPair, password: bytes) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # the private key last: its presence is what makes a key pair exist
        _write_atomic(directory / PUBLIC_FILE, _public_pem(pair.public), 0o644)
        _write_atomic(directory / PRIVATE_FILE, orjson.dumps(_wrap(pair, password), option=orjson.OPT_INDENT_2))
    except OSError as exc:
        raise EncryptionError(f"cannot write the key pair to {directory}: {exc.strerror or exc}") from None


def exists(home: Path) -> bool:
    """Whether a key pair is stored under ``home``."""
    return (key_dir(home) / PRIVATE_FILE).exists()


def generate(home: Path, password: str) -> KeyPair:
    """Make a new key pair under ``home/keys``, wrapped with ``password``; refuses to replace one."""
    secret = _check_password(password)
    directory = key_dir(home)
    if (directory / PRIVATE_FILE).exists():
        raise EncryptionError(f"a key pair already exists in {directory}; it protects the databases made "
                              f"with it, so it is never overwritten (use `rem rekey` to change its password)")
    private = Ed25519PrivateKey.generate()
    pair = KeyPair(private.private_bytes_raw(), private.public_key().public_bytes_raw())
    _save(directory, pair, secret)
    return pair


def load(home: Path, password: str) -> KeyPair:
    """Unwrap the key pair under ``home/keys`` with ``password``."""
    secret = _check_password(password)
    path = key_dir(home) / PRIVATE_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EncryptionError(f"no key pair in {path.parent}: the private key file {PRIVATE_FILE} is missing "
                              f"(run `rem key-gen --password ...`, or restore the keys this database was "
                              f"made with)") from None
    except OSError as exc:
        raise EncryptionError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    try:
        doc = orjson.loads(raw)
        kdf = doc["kdf"]
        if doc["format"] != FORMAT or kdf["name"] != "argon2id" or doc["cipher"] != "chacha20-poly1305":
            raise EncryptionError(f"key file {path} has an unknown format {doc['format']!r}")
        salt, nonce = _unb64(kdf["salt"], "kdf.salt", path), _unb64(doc["nonce"], "nonce", path)
        ciphertext, public = _unb64(doc["ciphertext"], "ciphertext", path), _unb64(doc["public_key"],
                                                                                     "public_key", path)
        wrapping = _derive(secret, salt, int(kdf["iterations"]), int(kdf["memory_kib"]), int(kdf["lanes"]))
        aad = _associated(doc)
    except EncryptionError:
        raise
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise EncryptionError(f"key file {path} is corrupt ({type(exc).__name__}: {exc})") from None
    try:
        private = ChaCha20Poly1305(wrapping).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise EncryptionError(f"wrong password for the key pair in {path.parent} (or its key file was "
                              f"altered)") from None
    if Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw() != public:
        raise EncryptionError(f"key file {path} is corrupt: its private and public keys do not match")
    return KeyPair(private, public)


def load_or_generate(home: Path, password: str) -> KeyPair:
    """The key pair under ``home`` (made now if there is none)."""
    return load(home, password) if exists(home) else generate(home, password)


def rekey(home: Path, password: str, new_password: str) -> KeyPair:
    """Re-wrap the private key under ``new_password`` (fresh salt and nonce); data is not touched. The old
    password stops working once this returns."""
    new_secret = _check_password(new_password, "new password")
    pair = load(home, password)
    _save(key_dir(home), pair, new_secret)
    return pair
