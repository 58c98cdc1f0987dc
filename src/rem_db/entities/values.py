"""What a stored value may be: JSON, exactly. Values JSON cannot hold are refused, naming the field.

Rows are stored as JSON (orjson), so every value must round-trip through it unchanged. orjson itself would
write NaN and ±Infinity as ``null`` and this module's callers used to turn sets, bytes and complex numbers into
something else; both changed data silently. Now:

* NaN, Infinity and -Infinity (floats, or ``Decimal`` values) are refused in every field, declared or not,
  nested or in lists — like a JSON document store. Store ``null`` or leave the field out.
* ``set``/``frozenset`` (no order: use a list), ``bytes``/``bytearray``/``memoryview`` (JSON has no binary:
  use text or a base64 string), ``complex`` (use two numbers) and objects without a JSON form are refused.
* Integers outside the 64-bit range stored values hold (-2**63 .. 2**64-1) are refused.
* Object keys must be strings; strings must be valid Unicode (no lone surrogates).

Kept as before: ``datetime`` (naive = UTC) / ``date`` / ``time`` become ISO-8601 text, ``UUID`` its text,
``Decimal`` a float, enums their value, tuples lists, Pydantic models and dataclasses objects, paths and URLs
their text.

The check is cheap on the common path: a row is encoded by orjson (C), which raises on every refused type
(then :func:`find_fault` walks the row to name the value at fault). NaN is the one silent case: only when
the output holds a ``null`` (which NaN may have become) is the row walked, first by a tight loop over plain
values (about 0.2 µs per value), and by :func:`find_fault` only when that meets a non-finite float or an
object to convert.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from decimal import Decimal
from typing import Any

import orjson
from pydantic_core import PydanticSerializationError, to_jsonable_python

from ..storage.codec import INT_MAX, INT_MIN, surrogate_name, unencodable_at

#: How deep objects and lists may nest in a row (orjson refuses to encode deeper values).
MAX_DEPTH = 254
# 19 digits in a row: maybe an integer beyond 64 bits, which orjson reads as a float
_LONG_NUMBER = re.compile(r"[0-9]{19}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{19}")


class Unstorable(ValueError):
    """A value JSON cannot hold: ``path`` is the field (``meta.size``, ``tags[2]``), ``reason`` the rest."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{reason}")
        self.path = path
        self.reason = reason


def _name(path: str) -> str:
    return f"field {path!r}" if path else "the row"


def _refusal(value: Any, path: str) -> str | None:
    """Why ``value`` itself (not what it contains) cannot be stored, or ``None``."""
    if isinstance(value, set | frozenset):
        return (f"{_name(path)} is a {type(value).__name__}: JSON has no sets; store a list instead (e.g. "
                f"sorted(values))")
    if isinstance(value, bytes | bytearray | memoryview):
        return (f"{_name(path)} is {type(value).__name__}: JSON has no binary data; store text (decode it) or a "
                f"base64 string (base64.b64encode(data).decode())")
    if isinstance(value, complex):
        return (f"{_name(path)} is a complex number ({value!r}): JSON has no complex numbers; store the real "
                f"and imaginary parts as two numbers (e.g. [z.real, z.imag])")
    if isinstance(value, float):
        return _non_finite(value, path)
    if isinstance(value, Decimal):
        if value.is_nan():
            return f"NaN is not allowed in {_name(path)} (JSON has no NaN; store null or leave the field out)"
        if value.is_infinite() or not math.isfinite(float(value)):
            return _non_finite(float("-inf") if value < 0 else float("inf"), path, f"Decimal {value}")
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        return (f"{_name(path)} is {value}, outside the 64-bit range of stored integers ({INT_MIN} to {INT_MAX}); "
                f"store it as a string (or a float, losing precision)")
    if isinstance(value, str):
        pos = unencodable_at(value)
        if pos >= 0:
            return f"{_name(path)} is not valid Unicode text ({surrogate_name(value[pos])} at position {pos})"
    return None


def _non_finite(value: float, path: str, given: str | None = None) -> str | None:
    if value != value:
        return f"NaN is not allowed in {_name(path)} (JSON has no NaN; store null or leave the field out)"
    if math.isinf(value):
        what = "Infinity" if value > 0 else "-Infinity"
        shown = f" ({given} is beyond the range of a float)" if given else ""
        return (f"{what} is not allowed in {_name(path)}{shown} (JSON has no infinities; store null, a "
                f"string or a large finite number)")
    return None


def _children(value: Any) -> list[tuple[Any, str | int]] | None:
    """The members of a container (``None`` for a scalar or an object to convert)."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    return None


def _converted(value: Any) -> Any:
    """What the encoder turns an object without a JSON form into (raises when it has none)."""
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump(mode="python")
    return to_jsonable_python(value)


def find_fault(row: Any) -> Unstorable | None:
    """The first value of ``row`` that JSON cannot hold, with its path; ``None`` when every value is fine."""
    stack: list[tuple[Any, str, int]] = [(row, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if value is None or value.__class__ is bool:
            continue
        problem = _refusal(value, path)
        if problem is not None:
            return Unstorable(path, problem)
        if isinstance(value, str | int | float | Decimal):
            continue
        members = _children(value)
        if members is None:
            try:
                converted = _converted(value)
            except (PydanticSerializationError, TypeError, ValueError):
                return Unstorable(path, f"{_name(path)} has type {type(value).__name__}, which has no JSON form "
                                        f"(store a string, number, boolean, null, list or object)")
            stack.append((converted, path, depth))
            continue
        if depth >= MAX_DEPTH:
            return Unstorable(path, f"{_name(path)} nests objects and lists more than {MAX_DEPTH} levels deep")
        pending = []
        for key, item in members:
            if isinstance(value, dict):
                if not isinstance(key, str):
                    return Unstorable(path, f"{_name(path)} has the key {key!r} ({type(key).__name__}): object "
                                            f"keys must be strings")
                bad = unencodable_at(key)
                if bad >= 0:
                    return Unstorable(path, f"{_name(path)} has a key that is not valid Unicode text "
                                            f"({surrogate_name(key[bad])} at position {bad})")
                child = f"{path}.{key}" if path else key
            else:
                child = f"{path}[{key}]"
            pending.append((item, child, depth + 1))
        stack.extend(reversed(pending))  # depth-first, in order: the first fault in reading order is named
    return None


def _default(value: Any) -> Any:
    """orjson's fallback for types it does not encode itself: the conversions this module keeps."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | bytes | bytearray | memoryview | complex):
        raise TypeError(f"{type(value).__name__} is refused")
    try:
        return _converted(value)
    except PydanticSerializationError:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable") from None


def encode_row(row: dict[str, Any]) -> bytes:
    """``row`` as JSON bytes, or :class:`Unstorable` naming the first value JSON cannot hold."""
    try:
        raw = orjson.dumps(row, default=_default, option=orjson.OPT_NAIVE_UTC)
    except (orjson.JSONEncodeError, TypeError) as exc:
        fault = find_fault(row)
        raise fault if fault is not None else Unstorable("", str(exc)) from None
    # NaN and ±Infinity were written as null: look for them (most such rows just hold nulls)
    if b"null" in raw and _maybe_non_finite(row):
        fault = find_fault(row)
        if fault is not None:
            raise fault
    return raw


def _maybe_non_finite(row: Any) -> bool:
    """Whether ``row`` may hold NaN or ±Infinity: a fast walk over plain JSON values (``True`` as soon as it
    meets a non-finite float or any other type, which :func:`find_fault` then examines)."""
    stack = [row]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        cls = value.__class__
        if cls is str or cls is int or cls is bool or value is None:
            continue
        if cls is float:
            if value - value != 0.0:  # inf - inf and nan - nan are NaN
                return True
        elif cls is dict:
            extend(value.values())
        elif cls is list or cls is tuple:
            extend(value)
        else:
            return True
    return False


def loads_exact(text: str | bytes) -> Any:
    """Parse JSON text like ``orjson.loads``, but keep integers beyond 64 bits exact (orjson reads them as
    floats, silently rounding them) so they are refused by name instead of stored changed."""
    value = orjson.loads(text)
    long_number = _LONG_NUMBER_BYTES.search(text) if isinstance(text, bytes) else _LONG_NUMBER.search(text)
    if long_number is not None:
        # valid JSON (orjson read it): only big integers come out differently; a document nested too deeply
        # for Python's parser keeps orjson's reading (such a row is refused for its depth anyway)
        with contextlib.suppress(RecursionError):
            value = json.loads(text)
    return value
