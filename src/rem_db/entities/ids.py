"""Entity ids (SPEC §1): deterministic UUIDs from BLAKE3, or random v4."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from blake3 import blake3

from ..errors import ValidationError
from ..index.keys import render


def hashed_uuid(text: str) -> uuid.UUID:
    """BLAKE3 of the UTF-8 text, first 16 bytes, version nibble 5 and the RFC 4122 variant."""
    digest = bytearray(blake3(text.encode("utf-8")).digest(16))
    digest[6] = digest[6] & 0x0F | 0x50
    digest[8] = digest[8] & 0x3F | 0x80
    return uuid.UUID(bytes=bytes(digest))


def id_source(entity_type: str, data: Mapping[str, Any], key_field: str | None) -> str | None:
    """The text hashed for a deterministic id, or ``None`` when the entity gets a random id."""
    uri = data.get("uri")
    if isinstance(uri, str):
        return f"{entity_type}:{uri}:{render(data.get('chunk_ordinal', 0))}"
    if key_field and data.get(key_field) is not None:
        return f"{entity_type}:{render(data[key_field])}"
    if data.get("key") is not None:
        return f"{entity_type}:{render(data['key'])}"
    name = data.get("name")
    if isinstance(name, str):
        return f"{entity_type}:{name}"
    return None


def entity_id(entity_type: str, data: Mapping[str, Any], key_field: str | None = None) -> uuid.UUID:
    """The id an entity of ``entity_type`` gets: the first rule of SPEC §1 that applies."""
    source = id_source(entity_type, data, key_field)
    return hashed_uuid(source) if source is not None else uuid.uuid4()


def parse_id(value: Any, what: str = "id") -> uuid.UUID:
    """Parse a UUID given as text, bytes or ``uuid.UUID``; a clear :class:`ValidationError` otherwise."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise ValidationError(f"{what} {value!r} is not a UUID")
