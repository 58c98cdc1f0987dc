"""Order-preserving byte encodings for RocksDB keys.

Every key component is self-delimiting, so a prefix of components is a valid scan prefix and any value
round-trips (``:``, ``/``, spaces, NUL bytes and unicode included):

* strings: UTF-8 with ``\\x00`` escaped as ``\\x00\\xff``, terminated by ``\\x00\\x00``;
* typed index values: a one-byte tag (null < false < true < number < timestamp < string) followed by a
  sortable payload, so numbers sort numerically (exactly, large integers included) and timestamps
  chronologically;
* sequence numbers: unsigned 64-bit big-endian.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from functools import lru_cache

TAG_NULL = 0x10
TAG_FALSE = 0x20
TAG_TRUE = 0x21
TAG_NUMBER = 0x30
TAG_TIMESTAMP = 0x40
TAG_STRING = 0x50

_TERMINATOR = b"\x00\x00"
_NULL = bytes((TAG_NULL,))
_STRING_TAG = bytes((TAG_STRING,))
_NUMBER_TAG = bytes((TAG_NUMBER,))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SIGN = 1 << 63
_MASK = (1 << 64) - 1

#: The integers a stored JSON value can hold (orjson reads and writes signed and unsigned 64-bit).
INT_MIN = -(1 << 63)
INT_MAX = (1 << 64) - 1


def encode_str(text: str) -> bytes:
    """Escape and terminate a string so it can be followed by further key components."""
    return text.encode("utf-8").replace(b"\x00", b"\x00\xff") + _TERMINATOR


def unencodable_at(text: str) -> int:
    """The 0-based position of the first character UTF-8 cannot encode (a lone surrogate), or -1."""
    if text.isascii():
        return -1
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return -1


def surrogate_name(char: str) -> str:
    """A lone surrogate as users can recognise it. Python turns bytes that are not UTF-8 (in command-line
    arguments, environment variables, file names) into U+DC80..U+DCFF: those name the byte they stand for."""
    code = ord(char)
    byte = f" (the byte 0x{code - 0xDC00:02x}, which is not UTF-8)" if 0xDC80 <= code <= 0xDCFF else ""
    return f"lone surrogate U+{code:04X}{byte}"


def bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored (the character and its 0-based position), or ``None`` when it can."""
    pos = unencodable_at(text)
    return None if pos < 0 else f"{surrogate_name(text[pos])} at position {pos}"


def decode_str(buf: bytes, start: int = 0) -> tuple[str, int]:
    """Decode a string written by :func:`encode_str`; return it and the offset just past it."""
    pos = start
    while True:
        end = buf.index(b"\x00", pos)
        if buf[end + 1] == 0x00:
            raw = buf[start:end].replace(b"\x00\xff", b"\x00")
            return raw.decode("utf-8"), end + 2
        pos = end + 2


def encode_u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def encode_float(value: float) -> bytes:
    """Sortable 8 bytes of an IEEE-754 double (negative numbers first, -0.0 equals 0.0)."""
    if value == 0:
        value = 0.0
    (bits,) = struct.unpack(">Q", struct.pack(">d", float(value)))
    bits = (~bits & _MASK) if bits & _SIGN else bits | _SIGN
    return bits.to_bytes(8, "big")


def decode_float(raw: bytes) -> float:
    bits = int.from_bytes(raw, "big")
    bits = bits & ~_SIGN & _MASK if bits & _SIGN else ~bits & _MASK
    return struct.unpack(">d", struct.pack(">Q", bits))[0]


def encode_number(value: int | float) -> bytes:
    """16 sortable bytes: the double, then the exact integer remainder (``value - int(double)``).

    Integers beyond 2**53 share a double with their neighbours; the remainder keeps them distinct and in
    order, so equality and ranges on large ints stay exact.
    """
    approx = float(value)
    remainder = value - int(approx) if isinstance(value, int) else 0
    remainder = max(-_SIGN, min(_SIGN - 1, remainder))
    return encode_float(approx) + ((remainder + _SIGN) & _MASK).to_bytes(8, "big")


def decode_number(raw: bytes) -> int | float:
    approx = decode_float(raw[:8])
    remainder = int.from_bytes(raw[8:16], "big") - _SIGN
    if approx.is_integer() and (remainder or abs(approx) < 2**63):
        return int(approx) + remainder
    return approx


def parse_timestamp(text: str) -> datetime | None:
    """Parse an ISO-8601 timestamp; naive values are taken as UTC. ``None`` when it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def timestamp_micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_value(value: object, timestamp: bool = False) -> bytes:
    """Encode one scalar index value. ``timestamp=True`` orders ISO strings chronologically."""
    if value.__class__ is str:
        if timestamp:
            encoded = _encode_timestamp(value)
            if encoded is not None:
                return encoded
        return _STRING_TAG + encode_str(value)
    if value is None:
        return _NULL
    if value is True:
        return bytes((TAG_TRUE,))
    if value is False:
        return bytes((TAG_FALSE,))
    if isinstance(value, int | float):
        return _NUMBER_TAG + encode_number(value)
    if isinstance(value, str):
        return encode_value(str(value), timestamp)
    raise TypeError(f"cannot index a value of type {type(value).__name__}")


@lru_cache(maxsize=4096)
def _encode_timestamp(text: str) -> bytes | None:
    moment = parse_timestamp(text)
    if moment is None:
        return None
    micros = timestamp_micros(moment)
    return bytes((TAG_TIMESTAMP,)) + ((micros + _SIGN) & _MASK).to_bytes(8, "big")


def decode_value(buf: bytes, start: int = 0) -> tuple[object, int]:
    """Decode a value written by :func:`encode_value`; timestamps come back as ISO-8601 UTC strings."""
    tag = buf[start]
    if tag == TAG_NULL:
        return None, start + 1
    if tag == TAG_TRUE:
        return True, start + 1
    if tag == TAG_FALSE:
        return False, start + 1
    if tag == TAG_NUMBER:
        return decode_number(buf[start + 1 : start + 17]), start + 17
    if tag == TAG_TIMESTAMP:
        micros = int.from_bytes(buf[start + 1 : start + 9], "big") - _SIGN
        return format_timestamp(_EPOCH + timedelta(microseconds=micros)), start + 9
    if tag == TAG_STRING:
        return decode_str(buf, start + 1)
    raise ValueError(f"unknown index value tag 0x{tag:02x}")


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and a ``Z`` suffix: fixed width, so strings sort by time."""
    m = moment.astimezone(UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
            f".{m.microsecond:06d}Z")


def tag_bounds(tag: int) -> tuple[bytes, bytes]:
    """The half-open byte range that holds every value of one tag's type (false and true are one type)."""
    if tag in (TAG_FALSE, TAG_TRUE):
        return bytes((TAG_FALSE,)), bytes((TAG_TRUE + 1,))
    return bytes((tag,)), bytes((tag + 1,))


def successor(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string starting with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        raise ValueError("no successor for an all-0xff prefix")
    return trimmed[:-1] + bytes((trimmed[-1] + 1,))


def now_iso() -> str:
    """The current time as a system timestamp (:func:`format_timestamp`)."""
    return format_timestamp(datetime.now(UTC))
