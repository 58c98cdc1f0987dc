"""Resolving the ends of edges and the starts of walks, given as an entity id or as a key.

A string that parses as a UUID is an id. Anything else is a key, looked up in the tenant's key index (the
``uri``, key field, ``key`` or ``name`` of an entity of any table, exact match). One key must name one
entity: when it names several, the live ones (not soft-deleted) are preferred, and if that still leaves
more than one the key is ambiguous and the error lists the candidates with their tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, ValidationError
from ..index.keys import key_values
from .ids import as_id16, id_text

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine
    from ..entities.records import Incoming
    from ..schema.model import TableSchema

MAX_LISTED = 5  # candidates named in an ambiguity error


def _describe(candidates: Sequence[tuple[str, bytes]]) -> str:
    shown = [f"{table} {id_text(id16)}" for table, id16 in candidates[:MAX_LISTED]]
    more = len(candidates) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


class Ambiguous(Exception):
    """A key that names more than one entity (``candidates``: (table, id16))."""

    def __init__(self, candidates: list[tuple[str, bytes]]) -> None:
        super().__init__(_describe(candidates))
        self.candidates = candidates


def pick(engine: EntityEngine, found: dict[str, list[tuple[str, bytes]]],
         local: dict[str, dict[bytes, str]] | None = None) -> dict[str, bytes | Ambiguous | None]:
    """For each key: the one id it names (``None`` if none, :class:`Ambiguous` if several).

    ``found`` are the key-index hits per key; ``local`` adds entities that are being written in the same
    batch (they count as live).
    """
    local = local or {}
    out: dict[str, bytes | Ambiguous | None] = {}
    unclear: dict[str, list[tuple[str, bytes]]] = {}
    for key, hits in found.items():
        candidates = list({id16: (table, id16) for table, id16 in hits}.values())
        fresh = local.get(key, {})
        candidates += [(table, i) for i, table in fresh.items() if all(i != c for _, c in candidates)]
        if len(candidates) <= 1:
            out[key] = candidates[0][1] if candidates else None
        else:
            unclear[key] = candidates
    if unclear:
        wanted = list({i for cands in unclear.values() for _, i in cands})
        records = dict(zip(wanted, engine.get_stored_many(wanted), strict=True))
        for key, candidates in unclear.items():
            fresh = local.get(key, {})
            live = [(t, i) for t, i in candidates if i in fresh
                    or ((record := records.get(i)) is not None and not record.get("deleted_at"))]
            chosen = live or candidates
            out[key] = chosen[0][1] if len(chosen) == 1 else Ambiguous(chosen)
    return out


def find_keys(engine: EntityEngine, keys: Iterable[str]) -> dict[str, list[tuple[str, bytes]]]:
    return {key: engine.keys.find(key) for key in dict.fromkeys(keys)}


def resolve_refs(engine: EntityEngine, values: Sequence[Any], role: str = "entity") -> list[bytes]:
    """The id (16 bytes) of each value, an id or a key. Existence of ids is not checked here.

    An unknown key is a :class:`NotFoundError`, an ambiguous one a :class:`ValidationError` naming the
    candidates, anything else than text or a UUID a :class:`ValidationError`.
    """
    found: dict[Any, bytes] = {}  # batches name the same entity many times: each value is parsed once
    keys: list[str] = []
    try:
        unique = dict.fromkeys(values)
    except TypeError:  # an unhashable value: never an id or a key
        unique = dict.fromkeys(v for v in values if _hashable(v))
        bad = next(v for v in values if not _hashable(v) or not (as_id16(v) or (isinstance(v, str) and v)))
        raise ValidationError(f"{role} {bad!r} is not an entity id or key (expected a UUID or key text)") from None
    for value in unique:
        id16 = as_id16(value)
        if id16 is None:
            if not isinstance(value, str) or not value:
                raise ValidationError(f"{role} {value!r} is not an entity id or key (expected a UUID or key text)")
            keys.append(value)
        else:
            found[value] = id16
    if keys:
        chosen = pick(engine, find_keys(engine, keys))
        for value in keys:
            hit = chosen[value]
            if hit is None:
                raise NotFoundError(f"{role} {value!r} is neither an entity id nor a key of any entity")
            if isinstance(hit, Ambiguous):
                raise ValidationError(f"{role} key {value!r} is ambiguous: it names {len(hit.candidates)} "
                                      f"entities ({hit}); give the id instead")
            found[value] = hit
    return [found[v] for v in values]


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def resolve_edge_keys(engine: EntityEngine, schema: TableSchema, incoming: Sequence[Incoming]) -> None:
    """Replace edge destinations given as keys in rows being written by the ids they name (in place).

    Keys of rows of the same batch count (an edge may point at an entity written alongside it). A key that
    names nothing, or several entities, is a validation error naming the row and the edge.
    """
    if not any(inc.edges for inc in incoming):  # the common case, kept cheap: single inserts pass here
        return
    from ..entities.records import DstKey

    pending = [(inc, n, edge) for inc in incoming for n, edge in enumerate(inc.edges or ())
               if type(edge["dst"]) is DstKey]
    if not pending:
        return
    local: dict[str, dict[bytes, str]] = {}
    for inc in incoming:
        for value in key_values(schema, inc.user):
            local.setdefault(value, {})[inc.id16] = schema.short_name
    chosen = pick(engine, find_keys(engine, (str(e["dst"]) for _, _, e in pending)), local)
    from ..schema.validation import RowRef

    for inc, n, edge in pending:
        key = str(edge["dst"])
        hit = chosen[key]
        where = RowRef(schema.short_name, inc.position)
        if hit is None:
            raise where.error(f"edges[{n}].dst {key!r} is neither an entity id nor a key of any entity", "edges")
        if isinstance(hit, Ambiguous):
            raise where.error(f"edges[{n}].dst key {key!r} is ambiguous: it names {len(hit.candidates)} entities "
                              f"({hit}); give the id instead", "edges")
        edge["dst"] = id_text(hit)
