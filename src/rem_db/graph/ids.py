"""Entity ids as the graph code handles them: 16 raw bytes inside, canonical UUID text outside."""

from __future__ import annotations

import uuid
from typing import Any


def id_text(id16: bytes) -> str:
    """Canonical UUID text (lowercase, hyphenated) of 16 id bytes; faster than ``str(uuid.UUID(bytes=...))``."""
    h = id16.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def as_id16(value: Any) -> bytes | None:
    """The 16 bytes of a UUID (a ``uuid.UUID`` or its text in any form ``uuid.UUID`` accepts), or ``None``
    when ``value`` is not one (it may then be a key)."""
    if type(value) is str and len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        # the canonical form, parsed ~4x faster than uuid.UUID (which remains the judge of other forms)
        try:
            raw = bytes.fromhex(value.replace("-", ""))  # a hyphen elsewhere leaves < 16 bytes
        except ValueError:
            raw = b""
        if len(raw) == 16:
            return raw
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, str):
        try:
            return uuid.UUID(value).bytes
        except ValueError:
            return None
    return None
