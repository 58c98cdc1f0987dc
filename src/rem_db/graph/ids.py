"""Entity ids as the graph code handles them: 16 raw bytes in keys, canonical UUID text in walks and results."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.array([i + (i >= 8) + (i >= 12) + (i >= 16) + (i >= 20) for i in range(32)])  # places in the text


def id_texts(ids: bytes) -> str:
    """The canonical texts of concatenated 16-byte ids, concatenated (36 characters each), built in one pass."""
    n = len(ids) // 16
    if n < 32:  # below this numpy's fixed cost is more than the string formatting
        h = ids.hex()
        return "".join([f"{h[j:j + 8]}-{h[j + 8:j + 12]}-{h[j + 12:j + 16]}-{h[j + 16:j + 20]}-{h[j + 20:j + 32]}"
                        for j in range(0, 32 * n, 32)])
    raw = np.frombuffer(ids, dtype=np.uint8).reshape(n, 16)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _DIGITS] = digits
    return out.tobytes().decode("ascii")


def id_text(id16: bytes) -> str:
    """Canonical UUID text (lowercase, hyphenated) of 16 id bytes; faster than ``str(uuid.UUID(bytes=...))``."""
    h = id16.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def id16_of(text: str) -> bytes:
    """The 16 bytes of a canonical id text (as walks and stored rows hold them)."""
    return bytes.fromhex(text.replace("-", ""))


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
