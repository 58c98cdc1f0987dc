"""Turning user input into stored entity records (SPEC §1): system fields, ids, edges, timestamps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from ..graph.ids import as_id16
from ..schema.model import SYSTEM_FIELDS, TableSchema
from ..schema.validation import RowRef, validate_row
from ..storage.codec import encode_str
from .ids import entity_id
from .values import Unstorable, encode_row


def to_plain(row: Any, where: RowRef) -> dict[str, Any]:
    """A JSON-only copy of a row (Pydantic models, datetimes, UUIDs and enums become JSON values).

    A value JSON cannot hold (NaN, ±Infinity, a set, bytes, a complex number, an integer beyond 64 bits …) is
    a :class:`ValidationError` naming its field (``meta.size``, ``tags[2]``): see :mod:`.values`."""
    if hasattr(row, "model_dump") and not isinstance(row, dict):
        row = row.model_dump(mode="python")
    if not isinstance(row, dict):
        raise where.error(f"expected a JSON object, got {type(row).__name__}")
    try:  # naive datetimes are taken as UTC, so they satisfy format: date-time
        return orjson.loads(encode_row(row))
    except Unstorable as exc:
        raise where.error(exc.reason, exc.path or None) from None


def check_declared(schema: TableSchema, data: dict[str, Any], where: RowRef) -> None:
    """Refuse fields the table does not declare when its schema sets ``additional_properties: false``."""
    if schema.additional_properties:
        return
    props = schema.properties
    extra = [name for name in data if name not in props]
    if extra:
        names = ", ".join(repr(n) for n in extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        declared = ", ".join(list(props)[:30]) + (", …" if len(props) > 30 else "") if props else "none"
        raise where.error(f"undeclared field{'s' if len(extra) > 1 else ''} {names}: table "
                          f"{schema.short_name!r} does not allow additional properties (declared fields: "
                          f"{declared})", extra[0])


class DstKey(str):
    """An edge ``dst`` given as a key, not an id: the engine resolves it (rem_db.graph.resolve) before writing."""


def parse_edges(value: Any, where: RowRef) -> list[dict[str, Any]]:
    """Check an ``edges`` list: objects with a ``dst`` (a UUID, or a key wrapped in :class:`DstKey`) and a
    non-empty ``rel_type``."""
    if not isinstance(value, list):
        raise where.error("field 'edges' must be a list of edge objects")
    edges = []
    for n, edge in enumerate(value):
        if not isinstance(edge, dict):
            raise where.error(f"edges[{n}] must be an object with dst and rel_type")
        dst, rel = edge.get("dst"), edge.get("rel_type")
        if not isinstance(dst, str) or not dst:
            raise where.error(f"edges[{n}].dst {dst!r} is not an entity id or key")
        try:
            dst = str(uuid.UUID(dst))
        except ValueError:
            dst = DstKey(dst)
        if not isinstance(rel, str) or not rel:
            raise where.error(f"edges[{n}].rel_type must be a non-empty string")
        props = edge.get("properties") or {}
        if not isinstance(props, dict):
            raise where.error(f"edges[{n}].properties must be an object")
        edges.append({"dst": dst, "rel_type": rel, "properties": props, "created_at": edge.get("created_at")})
    return edges


def merge_edges(old: list[dict[str, Any]], new: list[dict[str, Any]] | None, now: str) -> list[dict[str, Any]]:
    """Merge by (dst, rel_type): new properties win, the first ``created_at`` is kept. The result is in the
    order reads list an entity's edges: the order of the edge keys (relation type, then destination id)."""
    if new is None:
        return old
    merged = {(e["dst"], e["rel_type"]): e for e in old}
    for edge in new:
        key = (edge["dst"], edge["rel_type"])
        before = merged.get(key)
        created = before["created_at"] if before else (edge.get("created_at") or now)
        merged[key] = {"dst": edge["dst"], "rel_type": edge["rel_type"],
                       "properties": edge["properties"], "created_at": created}
    return sorted(merged.values(), key=_key_order)


def _key_order(edge: dict[str, Any]) -> tuple[bytes, bytes]:
    return encode_str(edge["rel_type"]), as_id16(edge["dst"]) or b""


@dataclass(slots=True)
class Incoming:
    """One validated row on its way into a table."""

    id: uuid.UUID
    user: dict[str, Any]
    edges: list[dict[str, Any]] | None
    position: int | None

    @property
    def id16(self) -> bytes:
        return self.id.bytes


def split_system(schema: TableSchema, data: dict[str, Any], where: RowRef) -> tuple[Any, Any]:
    """Take system fields out of ``data`` (in place). Returns the given id and edges (or None).

    Timestamps given by the caller are ignored (the database owns them); a different ``entity_type``
    is an error.
    """
    given_id = data.pop("id", None)
    table = data.pop("entity_type", schema.short_name)
    if table != schema.short_name:
        raise where.error(f"entity_type {table!r} does not match table {schema.short_name!r}")
    for name in ("created_at", "modified_at", "deleted_at"):
        data.pop(name, None)
    edges = data.pop("edges", None)
    return given_id, edges


def prepare(schema: TableSchema, row: Any, position: int | None) -> Incoming:
    """Normalise, validate and give an id to one row (raises :class:`ValidationError`)."""
    where = RowRef(schema.short_name, position)
    data = to_plain(row, where)
    given_id, edges = split_system(schema, data, where)
    for name, default in schema.defaults.items():
        if name not in data:
            data[name] = orjson.loads(orjson.dumps(default))
    check_declared(schema, data, where)
    validate_row(schema, data, position)
    if given_id is not None:
        try:
            ident = uuid.UUID(str(given_id))
        except ValueError:
            raise where.error(f"id {given_id!r} is not a UUID") from None
    else:
        ident = entity_id(schema.short_name, data, schema.key_field)
    return Incoming(ident, data, parse_edges(edges, where) if edges is not None else None, position)


def build_record(table: str, ident: uuid.UUID, user: dict[str, Any], edges: list[dict[str, Any]],
                 created_at: str, now: str) -> dict[str, Any]:
    """The stored, flat form of an entity: id and table first, user fields, then timestamps and edges."""
    record: dict[str, Any] = {"id": str(ident), "entity_type": table}
    record.update(user)
    record["created_at"] = created_at
    record["modified_at"] = now
    record["deleted_at"] = None
    record["edges"] = edges
    return record


def user_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in SYSTEM_FIELDS}
