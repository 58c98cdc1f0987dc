"""Reading the entities a walk reached with only the fields asked for (``traverse(fields=...)``).

A stored entity is one JSON object whose last key is ``edges`` (every writer builds it so: id and table first,
user fields, timestamps, then edges; a node's edge list is most of its bytes). Without ``edges`` among the
fields, only the part before that key is decoded: the value is cut at the last ``,"edges":[``. Any other
occurrence of that text sits inside a value (an edge's properties, a user field), so the part before it
leaves a bracket open and does not decode: then, and whenever the part lacks ``deleted_at`` (always written
just before ``edges``), the whole value is decoded as before. Results are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import ValidationError

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

_EDGES = b',"edges":['
ALWAYS = ("id", "entity_type")  # in every projected entity


def check_fields(fields: Any) -> tuple[str, ...] | None:
    """``None`` (whole entities) or the field names: a list of non-empty strings (a single string is one)."""
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) and f for f in fields):
        raise ValidationError(f"fields: expected a list of field names (non-empty strings), got {fields!r}")
    return tuple(dict.fromkeys([*ALWAYS, *fields]))


def _head(raw: bytes) -> dict[str, Any] | None:
    """The entity without its ``edges`` key, decoded from the bytes before it (``None``: decode it whole)."""
    cut = raw.rfind(_EDGES)
    if cut <= 0:
        return None
    try:
        head = orjson.loads(raw[:cut] + b"}")
    except orjson.JSONDecodeError:
        return None
    return head if "deleted_at" in head else None


def read_records(engine: EntityEngine, ids: Sequence[bytes], fields: tuple[str, ...]) -> list[dict[str, Any] | None]:
    """The stored entities of ``ids`` (``None``: missing), decoded without their edges unless ``fields`` names
    ``edges`` (then whole, hubs' lists read from their keys)."""
    if "edges" in fields:
        return engine.get_many(list(ids))
    out: list[dict[str, Any] | None] = []
    for raw in engine.get_raw_many(list(ids)):
        if raw is None:
            out.append(None)
            continue
        out.append(_head(raw) or orjson.loads(raw))
    return out


def project(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The listed fields the entity has (``id`` and ``entity_type`` always)."""
    return {f: record[f] for f in fields if f in record}
