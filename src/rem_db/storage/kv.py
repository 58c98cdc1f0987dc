"""The two narrow seams of the storage layer: :class:`KVStore` (what every area may ask of the store) and
:class:`ValueCodec` (what every stored value passes through on its way to and from disk).

Areas depend on these protocols, never on RocksDB: ``storage/store.py`` is the one implementation of
``KVStore`` and the only module that imports rocksdict. The codec is chosen when the store opens; the
identity codec stores values as they are, and the encryption issue plugs a cipher in here without any other
package changing (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: ``(column family, key, value)``; value ``None`` deletes the key.
Op = tuple[str, bytes, bytes | None]


@runtime_checkable
class ValueCodec(Protocol):
    """Turns a value into its stored bytes and back. ``cf`` and ``key`` name where the value lives, so a
    cipher can bind each value to its place (a value copied to another key fails to decode). Keys are never
    encoded: they stay byte-ordered for range scans."""

    #: the column families whose values it transforms; values of the others are stored as they are (and the
    #: store skips the calls). Empty for the identity codec.
    families: frozenset[str]

    def encode(self, cf: str, key: bytes, value: bytes) -> bytes: ...

    def decode(self, cf: str, key: bytes, stored: bytes) -> bytes: ...


class IdentityCodec:
    """Values stored as they are (a database opened without a password)."""

    families: frozenset[str] = frozenset()

    def encode(self, cf: str, key: bytes, value: bytes) -> bytes:
        return value

    def decode(self, cf: str, key: bytes, stored: bytes) -> bytes:
        return stored


class WriteBatch(Protocol):
    """Puts and deletes across column families, committed atomically by :meth:`KVStore.write`."""

    count: int
    #: run after the batch is written, with the commit sequence it was given
    on_commit: list[Callable[[int], None]]
    #: run just before it is written; they may still add to the batch
    before_write: list[Callable[[], None]]
    #: derived values staged while the batch is built, keyed by their owner
    stash: dict[str, Any]

    def put(self, cf: str, key: bytes, value: bytes = b"") -> None: ...

    def put_keys(self, cf: str, keys: set[bytes] | list[bytes]) -> None: ...

    def delete(self, cf: str, key: bytes) -> None: ...

    def apply(self, cf: str, ops: list[tuple[bytes, bytes | None]]) -> None: ...


class KVStore(Protocol):
    """Ordered byte keys in named column families, with atomic multi-family batches.

    Ranges are half-open (``lower <= key < upper``). ``fill_cache=False`` keeps a bulk read out of the block
    cache. Every batch goes through :meth:`write`, the one commit path: it appends the batch's WAL record (its
    operations, as stored) in the same atomic write and returns its sequence number.
    """

    path: Path
    read_only: bool

    def has_family(self, cf: str) -> bool: ...

    # reads
    def get(self, cf: str, key: bytes) -> bytes | None: ...

    def multi_get(self, cf: str, keys: list[bytes]) -> list[bytes | None]: ...

    def scan(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False,
             keys_only: bool = False) -> Iterator[tuple[bytes, bytes | None]]: ...

    def items(self, cf: str, lower: bytes, upper: bytes,
              fill_cache: bool = True) -> Iterator[tuple[bytes, bytes]]: ...

    def values(self, cf: str, lower: bytes, upper: bytes, fill_cache: bool = True) -> Iterator[bytes]: ...

    def scan_keys(self, cf: str, lower: bytes, upper: bytes, reverse: bool = False,
                  fill_cache: bool = True) -> Iterator[bytes]: ...

    def count(self, cf: str, lower: bytes, upper: bytes) -> int: ...

    def last_key(self, cf: str) -> bytes | None: ...

    def estimate_keys(self, cf: str) -> int: ...

    def sequence(self) -> int: ...

    # writes
    def batch(self) -> WriteBatch: ...

    def write(self, batch: Any) -> int: ...

    def wal_seq(self) -> int: ...

    def put_local(self, cf: str, key: bytes, value: bytes | None) -> None: ...

    def get_local(self, cf: str, key: bytes) -> bytes | None: ...

    # whole-store operations
    def snapshot(self) -> Any: ...

    def checkpoint(self, dest: str | Path) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...
