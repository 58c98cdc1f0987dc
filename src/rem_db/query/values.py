"""Typed values: how the query engine compares, groups and orders JSON values (SPEC §5).

Values fall into classes ordered like the field index orders them: booleans < numbers < timestamps <
strings < other (lists and objects, as their sorted JSON text). Two values of different classes are not
comparable: a comparison between them is UNKNOWN (SQL NULL), exactly as a typed index range never
crosses a type. Numbers compare numerically (ints and floats together), timestamps chronologically (to
the microsecond, offsets applied), strings by code point (exact, case-sensitive).

A string is a timestamp when the field it comes from is one: the system timestamps and properties with
``format: date-time``. Elsewhere an ISO-looking string is just a string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from ..storage.codec import parse_timestamp, timestamp_micros

BOOL, NUMBER, TIMESTAMP, STRING, OTHER = 0, 1, 2, 3, 4
CLASS_NAMES = {BOOL: "a boolean", NUMBER: "a number", TIMESTAMP: "a timestamp", STRING: "a string",
               OTHER: "a list or object"}


@lru_cache(maxsize=65536)
def ts_micros(text: str) -> int | None:
    """Microseconds since the epoch of an ISO-8601 timestamp (naive = UTC); ``None`` if it is not one."""
    if not text[:1].isdigit():  # fast refusal of ordinary strings (every ISO-8601 date starts with one)
        return None
    moment = parse_timestamp(text)
    return None if moment is None else timestamp_micros(moment)


def value_class(value: Any, timestamp: bool = False) -> int:
    """The comparison class of a non-null value."""
    cls = value.__class__
    if cls is str:
        return TIMESTAMP if timestamp and ts_micros(value) is not None else STRING
    if cls is bool:
        return BOOL
    if cls is int or cls is float:
        return NUMBER
    return OTHER


def typed_key(value: Any, timestamp: bool = False) -> tuple[int, Any] | None:
    """``(class, comparable)`` of a value, ``None`` for NULL. Equal keys mean SQL-equal values."""
    if value is None:
        return None
    cls = value.__class__
    if cls is str:
        if timestamp:
            micros = ts_micros(value)
            if micros is not None:
                return TIMESTAMP, micros
        return STRING, value
    if cls is bool:
        return BOOL, value
    if cls is int or cls is float:
        return NUMBER, value
    return OTHER, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def literal_class(value: Any) -> str:
    """A literal's type as named in messages and schema checks."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def describe(value: Any) -> str:
    """A literal as it would be written in SQL, for messages."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return orjson.dumps(value).decode()
