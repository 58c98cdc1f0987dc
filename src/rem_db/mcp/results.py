"""Tool results as capped, JSON-safe structures: what an MCP tool sends back to the model.

Every result is a JSON object. Lists of rows are capped at ``max_rows`` rows and ``max_bytes`` bytes of JSON
(vectors are never included); when rows are left out the result says so in ``truncated`` and ``note``, so a
model knows to narrow its request instead of believing it saw everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

#: keys whose values are embedding vectors: never sent to a model
VECTOR_KEYS = frozenset({"embedding", "embedding_alt", "vector", "embeddings"})
#: a list of at least this many numbers is taken for a vector wherever it sits
VECTOR_MIN_LEN = 64
#: a single value longer than this many characters is cut when a lone row would not fit the byte cap
LONG_TEXT = 2000


@dataclass(frozen=True)
class Limits:
    """How much one tool result may hold."""

    max_rows: int = 100
    max_bytes: int = 100_000


def _scrub(value: Any) -> Any:
    """``value`` with vectors replaced by a short placeholder, recursively."""
    if isinstance(value, dict):
        return {k: (_omitted(v) if k in VECTOR_KEYS and _is_vector(v) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if _is_vector(value) and len(value) >= VECTOR_MIN_LEN:
            return _omitted(value)
        return [_scrub(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return _scrub(value.tolist())
    return value


def _is_vector(value: Any) -> bool:
    if hasattr(value, "tolist"):
        value = value.tolist()
    return isinstance(value, list | tuple) and bool(value) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value)


def _omitted(value: Any) -> str:
    size = len(value.tolist() if hasattr(value, "tolist") else value)
    return f"<vector of {size} numbers omitted>"


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def dumps(value: Any) -> bytes:
    """Compact JSON of a scrubbed value (datetimes as ISO text, UUIDs as text)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def to_json(value: Any) -> Any:
    """``value`` as plain JSON types (dicts, lists, strings, numbers, booleans, null), vectors removed."""
    return orjson.loads(dumps(_scrub(value)))


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return value[:LONG_TEXT] + f"… [{len(value) - LONG_TEXT} more characters]"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


def capped_object(value: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """One object (an entity, a schema, an edge): vectors removed, long texts cut if it exceeds the byte cap."""
    out = to_json(value)
    if len(dumps(out)) > limits.max_bytes:
        out = _shorten(out)
        out["_note"] = (f"long text values were cut to {LONG_TEXT} characters to keep the result under "
                        f"{limits.max_bytes} bytes")
    return out


def capped_rows(rows: list[Any], limits: Limits, *, hint: str = "", extra: dict[str, Any] | None = None,
                ) -> dict[str, Any]:
    """``{"results": rows, "count": n, ...extra}``, at most ``limits.max_rows`` rows and about
    ``limits.max_bytes`` bytes of JSON; when rows were left out, ``truncated: true``, ``total`` (rows there were)
    and a ``note`` saying how many were shown and ``hint`` (how to narrow the request)."""
    total = len(rows)
    kept = [to_json(r) for r in rows[: limits.max_rows]]
    size = sum(len(dumps(r)) + 1 for r in kept)
    cut_text = False
    while kept and size > limits.max_bytes:
        if len(kept) == 1:  # one huge row: cut its long texts rather than return nothing
            kept = [_shorten(kept[0])]
            cut_text = True
            break
        size -= len(dumps(kept.pop())) + 1
    result: dict[str, Any] = {"results": kept, "count": len(kept), **(extra or {})}
    if len(kept) < total or cut_text:
        result["truncated"] = True
        result["total"] = total
        why = f"at most {limits.max_rows} rows and about {limits.max_bytes // 1000} kB per result"
        shown = f"showing {len(kept)} of {total} results" if len(kept) < total else "long text values were cut"
        result["note"] = f"{shown} ({why})" + (f"; {hint}" if hint else "")
    return result
