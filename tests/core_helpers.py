"""Schemas and helpers shared by the core test-suite (imported as ``core_helpers``)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from blake3 import blake3

PRODUCTS: dict[str, Any] = {
    "title": "products",
    "type": "object",
    "description": "Products for sale, keyed by product code.",
    "properties": {
        "product_code": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "stock": {"type": "integer", "default": 0},
        "category": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "released_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}], "default": None},
        "notes": {"type": "string"},
    },
    "required": ["product_code", "name", "price"],
    "key_field": "product_code",
    "indexed_fields": ["category", "price", "tags", "released_at", "stock"],
}

ARTICLES: dict[str, Any] = {
    "title": "articles",
    "type": "object",
    "description": "Articles, keyed by title.",
    "properties": {
        "title": {"type": "string"},
        "body": {"type": "string"},
        "author": {"type": "string"},
    },
    "required": ["title"],
    "key_field": "title",
    "indexed_fields": ["author"],
}

# A table without a key_field, so the generic id rules (key, name, random) apply.
NOTES: dict[str, Any] = {
    "title": "notes",
    "type": "object",
    "description": "Free-form notes.",
    "properties": {
        "key": {},
        "name": {},
        "uri": {},
        "text": {"type": "string"},
        "chunk_ordinal": {"type": "integer"},
    },
}


def schema_copy(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out.update(changes)
    return out


def expected_id(text: str) -> str:
    """SPEC §1 hash, written independently of the library: BLAKE3, 16 bytes, v5 nibble, RFC 4122 variant."""
    raw = bytearray(blake3(text.encode("utf-8")).digest()[:16])
    raw[6] = raw[6] & 0x0F | 0x50
    raw[8] = raw[8] & 0x3F | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def product(code: str, **fields: Any) -> dict[str, Any]:
    row = {"product_code": code, "name": f"Product {code}", "price": 10.0}
    row.update(fields)
    return row


def id16(entity: dict[str, Any] | str) -> bytes:
    ident = entity["id"] if isinstance(entity, dict) else entity
    return uuid.UUID(ident).bytes


def field_index_keys_of(db: Any, ident: bytes) -> list[bytes]:
    """Every field-index key of the tenant that ends with this id (a raw scan of the column family)."""
    ks = db._keyspace
    return [k for k in db._store.scan_keys("field_index", ks.prefix, ks.end) if k.endswith(ident)]


def key_index_values_of(db: Any, ident: bytes) -> list[str]:
    """Key values in the tenant's key index that point at this id."""
    return [value for value, _table, i in db._engine.keys.all_values() if i == ident]


def edge_keys_touching(db: Any, ident: bytes) -> list[tuple[str, bytes]]:
    """Forward and reverse edge keys of the tenant that mention this id, as (column family, key)."""
    ks = db._keyspace
    return [(cf, k) for cf in ("edges", "reverse_edges")
            for k in db._store.scan_keys(cf, ks.prefix, ks.end) if ident in k]


def kill_after_acks(script: str, args: list[str], acks: int, env: dict[str, str] | None = None,
                    timeout: float = 30) -> list[int]:
    """Run ``script`` (Python source) in a child process that prints ``ready``, then one number per write
    it has committed; SIGKILL it once ``acks`` numbers were read (it is then inside its next write).
    Returns every number it printed before dying (each is an acknowledged write), after checking that the
    kill is what ended it."""
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    acked: list[int] = []
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        while len(acked) < acks:
            line = child.stdout.readline()
            assert line, f"child stopped early: {child.stderr.read()}"
            acked.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=timeout)
        # lines the child printed before dying are acknowledgements too
        acked += [int(line) for line in child.stdout.read().split() if line.strip()]
    assert child.returncode == -signal.SIGKILL
    return acked


def stored_state(db: Any) -> dict[tuple[str, bytes], bytes]:
    """Every key and value of the store (all column families but the WAL, and without the store's own local
    bookkeeping: the WAL position and the vector index manifests), as stored."""
    store = db._store
    return {(cf, key): value for cf in store.cfs if cf != "wal"
            for key, value in store.items(cf, b"", b"\xff" * 64)
            if cf != "meta" or not (key == b"wal.position" or key.startswith(b"index.manifest/"))}


def replayed_state(db: Any, upto: int | None = None) -> dict[tuple[str, bytes], bytes]:
    """The store rebuilt from its WAL records alone, as a replica applies them: every record's operations
    in sequence order (puts and deletes are idempotent)."""
    state: dict[tuple[str, bytes], bytes] = {}
    for seq, ops in db._store.wal_records(1):
        if upto is not None and seq > upto:
            break
        for cf, key, value in ops:
            if value is None:
                state.pop((cf, key), None)
            else:
                state[(cf, key)] = value
    return state
