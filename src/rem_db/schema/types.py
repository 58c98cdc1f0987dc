"""The JSON-Schema type of a field, resolved in one place for validation, SQL binding, export and ingest.

A property may be written many ways for the same type: ``{"type": "string"}``, ``{"type": ["string",
"null"]}``, Pydantic's ``{"anyOf": [{"type": "string"}, {"type": "null"}]}``, a local ``$ref`` into
``$defs`` (or ``definitions``), an ``enum``/``const`` without a ``type``. :func:`type_of` reduces each to one
:class:`FieldType`: the non-null JSON types it allows, whether it is nullable, its ``format``, its array
elements and nested object properties, its enum values. Alternatives (``anyOf``/``oneOf``, type lists) are
merged: the types are their union, a ``null`` alternative only makes the field nullable.

>>> root = {"$defs": {"Tag": {"type": "string", "enum": ["a", "b"]}},
...         "properties": {"tags": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Tag"}},
...                                           {"type": "null"}]}}}
>>> field_type(root, "tags").display
'array<string> | null'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..errors import SchemaError

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")
MAX_DEPTH = 32  # $ref hops in one chain, and nesting of anyOf/oneOf alternatives
_ORDER = {t: n for n, t in enumerate(JSON_TYPES)}


def resolve(prop: Any, root: Mapping[str, Any]) -> Any:
    """``prop`` with its local ``$ref`` chain followed (``#/$defs/X``, ``#/definitions/X``, any JSON pointer).

    A reference to another document is left unresolved: it reads as an unconstrained ``{}``. A dangling
    reference or a chain longer than :data:`MAX_DEPTH` (a loop) is a :class:`SchemaError`."""
    seen = 0
    while isinstance(prop, Mapping) and isinstance(prop.get("$ref"), str):
        ref = prop["$ref"]
        if ref == "#":
            prop = root
        elif ref.startswith("#/"):
            prop = _pointer(root, ref)
        else:
            return {}
        seen += 1
        if seen > MAX_DEPTH:
            raise SchemaError(f"$ref {ref!r}: more than {MAX_DEPTH} references in a row (a reference loop?)")
    return prop


def _pointer(root: Mapping[str, Any], ref: str) -> Any:
    target: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            raise SchemaError(f"$ref {ref!r} points to nothing in the schema")
    return target


def _json_type(value: Any) -> str | None:
    """The JSON type of an enum or const value (``None`` for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list | tuple) else "object"


@dataclass(frozen=True)
class FieldType:
    """What a field may hold, resolved from its JSON Schema.

    ``types``: the non-null JSON types allowed (``string``, ``integer``, ``number``, ``boolean``, ``array``,
    ``object``), ``None`` when the schema does not constrain them (any JSON value). ``nullable``: null is
    allowed. ``format``: the ``format`` every alternative shares (``date-time``, ``date`` …), else ``None``.
    ``is_datetime``: some alternative is a ``date-time`` string (such a field is compared, indexed and
    filtered as a timestamp). ``enum``: the allowed non-null values when every alternative lists them.
    :attr:`items` and :attr:`properties` describe array elements and nested objects, resolved on demand (so
    recursive models are fine) from ``item_schemas`` / ``object_schemas``, the raw schemas of the array and
    object alternatives, and ``root``, the whole schema their ``$ref`` point into.
    """

    types: frozenset[str] | None
    nullable: bool = False
    format: str | None = None
    is_datetime: bool = False
    enum: tuple[Any, ...] | None = None
    item_schemas: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    object_schemas: tuple[Mapping[str, Any], ...] = field(default=(), repr=False, compare=False)
    root: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def json_types(self) -> frozenset[str] | None:
        """Every JSON type a value may have, ``"null"`` included when nullable; ``None``: any."""
        if self.types is None:
            return None
        return self.types | {"null"} if self.nullable else self.types

    @cached_property
    def items(self) -> FieldType | None:
        """The type of the elements of an array field (``None`` when no alternative is a declared array)."""
        if not self.item_schemas:
            return None
        return union(type_of(s, self.root) for s in self.item_schemas)

    @cached_property
    def properties(self) -> dict[str, FieldType]:
        """The declared properties of a nested object (of every object alternative), by name."""
        found: dict[str, list[FieldType]] = {}
        for obj in self.object_schemas:
            props = obj.get("properties")
            if isinstance(props, Mapping):
                for name, prop in props.items():
                    found.setdefault(name, []).append(type_of(prop, self.root))
        return {name: union(alternatives) for name, alternatives in found.items()}

    @property
    def display(self) -> str:
        """A short human form: ``string | null``, ``array<integer>``, ``string(date-time)``, ``any``."""
        return _display(self, 0)


ANY = FieldType(None, nullable=True)  # an unconstrained value: any JSON type, or null


def _display(ft: FieldType, depth: int) -> str:
    if ft.types is None:
        return "any"
    names = []
    for name in sorted(ft.types, key=lambda t: _ORDER.get(t, len(_ORDER))):
        if name == "string" and ft.format:
            name = f"string({ft.format})"
        elif name == "array" and ft.items is not None and ft.items.types is not None:
            name = f"array<{_display(ft.items, depth + 1) if depth < 4 else '…'}>"
        names.append(name)
    if ft.nullable:
        names.append("null")
    return " | ".join(names) or "never"


def type_of(prop: Any, root: Mapping[str, Any]) -> FieldType:
    """The :class:`FieldType` of the property schema ``prop`` (``root``: the table's whole JSON Schema)."""
    return _type_of(prop, root, 0)


def _type_of(prop: Any, root: Mapping[str, Any], depth: int) -> FieldType:
    prop = resolve(prop, root)
    if not isinstance(prop, Mapping):
        return ANY if prop is not False else FieldType(frozenset())
    values = prop["enum"] if isinstance(prop.get("enum"), list) else [prop["const"]] if "const" in prop else None
    fmt = prop.get("format") if isinstance(prop.get("format"), str) else None
    kind = prop.get("type")
    if isinstance(kind, str | list):
        kinds = [kind] if isinstance(kind, str) else [k for k in kind if isinstance(k, str)]
        types = frozenset(k for k in kinds if k != "null")
        return FieldType(types, nullable="null" in kinds, format=fmt, is_datetime=fmt == "date-time",
                         enum=_non_null(values),
                         item_schemas=(prop.get("items", {}),) if "array" in types else (),
                         object_schemas=(prop,) if "object" in types else (), root=root)
    alternatives = prop.get("anyOf") or prop.get("oneOf")
    if isinstance(alternatives, list) and alternatives:
        if depth >= MAX_DEPTH:
            raise SchemaError(f"anyOf/oneOf nested more than {MAX_DEPTH} deep (a reference loop?)")
        return union(_type_of(a, root, depth + 1) for a in alternatives)
    if values:
        found = [_json_type(v) for v in values]
        return FieldType(frozenset(t for t in found if t is not None), nullable=None in found, format=fmt,
                         is_datetime=fmt == "date-time", enum=_non_null(values), root=root)
    return FieldType(None, nullable=True, format=fmt, is_datetime=fmt == "date-time", root=root)


def _non_null(values: list[Any] | None) -> tuple[Any, ...] | None:
    return None if values is None else tuple(v for v in values if v is not None)


def union(alternatives: Iterable[FieldType]) -> FieldType:
    """One type for a value that may have any of ``alternatives`` (``anyOf``/``oneOf``)."""
    alts = list(alternatives)
    if len(alts) == 1:
        return alts[0]
    valued = [a for a in alts if a.types is None or a.types]  # a null-only alternative adds nullability only
    types: frozenset[str] | None = frozenset()
    for a in alts:
        types = None if types is None or a.types is None else types | a.types
    formats = {a.format for a in valued}
    enums = [a.enum for a in valued]
    return FieldType(
        types,
        nullable=any(a.nullable for a in alts),
        format=formats.pop() if len(formats) == 1 else None,
        is_datetime=any(a.is_datetime for a in alts),
        enum=None if not enums or any(e is None for e in enums) else tuple(v for e in enums for v in e or ()),
        item_schemas=tuple(s for a in alts for s in a.item_schemas),
        object_schemas=tuple(s for a in alts for s in a.object_schemas),
        root=next((a.root for a in alts if a.root), {}),
    )


def field_type(schema: Mapping[str, Any], path: str | Sequence[str]) -> FieldType | None:
    """The type of a top-level property of the table ``schema``, or of a nested one by dotted path
    (``"metadata.author"`` or ``("metadata", "author")``); ``None`` when the schema does not declare it."""
    parts = path.split(".") if isinstance(path, str) else list(path)
    props = schema.get("properties")
    if not parts or not isinstance(props, Mapping) or parts[0] not in props:
        return None
    found: FieldType | None = type_of(props[parts[0]], schema)
    for part in parts[1:]:
        found = found.properties.get(part) if found is not None else None
    return found


def allows_extra_fields(schema: Mapping[str, Any]) -> bool:
    """Whether JSON Schema lets rows carry fields the table does not declare: unless ``additionalProperties``
    is ``false``. (A table's rule is :attr:`TableSchema.additional_properties
    <rem_db.schema.model.TableSchema.additional_properties>`, which the REM setting may also set.)"""
    return schema.get("additionalProperties", True) is not False


def extra_field_type(schema: Mapping[str, Any]) -> FieldType:
    """The type of an undeclared top-level field: what ``additionalProperties`` allows when it is a schema
    (``{"type": "string"}``), else any JSON value."""
    extra = schema.get("additionalProperties")
    return type_of(extra, schema) if isinstance(extra, Mapping) else ANY
