"""A table's columns for export: its :class:`~rem_db.schema.model.TableSchema` mapped to Arrow types.

Column order: the system fields (``id``, ``entity_type``, ``created_at``, ``modified_at``, ``deleted_at``,
``edges``), the declared properties in schema order, ``_extra`` (only for open tables, see below), then the
vector columns (``embedding``, ``embedding_alt``) when asked for.

JSON Schema type          Arrow type
------------------------  ---------------------------------------------------------------
string                    string
string, format date-time  timestamp[us, tz=UTC]
string, format date       date32
integer                   int64
number (or integer|number) float64
boolean                   bool
array of one scalar type  list<that type>
object, other arrays,     string holding compact JSON (field metadata ``rem.type = json``)
mixed or untyped values
``edges``                 list<struct<dst, rel_type, properties (JSON text), created_at>> (all strings)
vectors                   fixed_size_list<float32>[dimensions]

A ``null`` branch (``anyOf: [X, null]``, ``type: [X, "null"]``) only makes the column nullable (every
column but ``id``, ``entity_type``, ``created_at`` and ``modified_at`` is). A table is *open* when it
declares no properties or sets ``additionalProperties`` to something other than ``false`` (the query
engine's rule); its undeclared fields go to ``_extra`` as one JSON object per row.

``flat=True`` gives the CSV shape: list, struct and vector columns become JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..schema.model import SYSTEM_FIELDS, TableSchema

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_META = {b"rem.type": b"json"}
EXTRA = "_extra"
EDGE_TYPE = pa.list_(pa.struct([
    pa.field("dst", pa.string()),
    pa.field("rel_type", pa.string()),
    pa.field("properties", pa.string(), metadata=JSON_META),
    pa.field("created_at", pa.string()),
]))
_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(), "timestamp": TIMESTAMP, "date": pa.date32(),
    "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
}
_REQUIRED_SYSTEM = ("id", "entity_type", "created_at", "modified_at")


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: how its values are converted (``kind``) and its Arrow type.

    ``kind``: a scalar kind (``string``, ``timestamp``, ``date``, ``int``, ``float``, ``bool``), ``list``
    (``item`` is the scalar kind of its elements), ``json``, ``edges``, ``extra`` or ``vector``
    (``dimensions`` floats; ``spec`` is the embedding provider it was read from).
    """

    name: str
    kind: str
    item: str | None = None
    dimensions: int | None = None
    spec: str | None = None
    nullable: bool = True

    def arrow_type(self, flat: bool = False) -> pa.DataType:
        if self.kind in _SCALARS:
            return _SCALARS[self.kind]
        if flat or self.kind in ("json", "extra"):
            return pa.string()
        if self.kind == "list":
            return pa.list_(_SCALARS[self.item or "string"])
        if self.kind == "edges":
            return EDGE_TYPE
        return pa.list_(pa.float32(), self.dimensions or 0)

    def field(self, flat: bool = False) -> pa.Field:
        is_json = self.kind in ("json", "extra") or (flat and self.kind in ("list", "edges", "vector"))
        return pa.field(self.name, self.arrow_type(flat), nullable=self.nullable,
                        metadata=JSON_META if is_json else None)

    def describe(self, flat: bool = False) -> dict[str, Any]:
        """``{"name", "type"}`` as the summary and manifest list it (the Arrow type; ``flat``: as in CSV)."""
        return {"name": self.name, "type": str(self.arrow_type(flat))}


def _resolve(root: dict[str, Any], prop: Any, depth: int = 0) -> Any:
    """Follow local ``$ref`` pointers (``#/$defs/X``, as Pydantic writes them)."""
    while isinstance(prop, dict) and isinstance(prop.get("$ref"), str) and depth < 8:
        ref = prop["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        prop = target
        depth += 1
    return prop


def _branches(root: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    """The non-null alternatives of a property (``anyOf``/``oneOf`` branches or ``type`` list entries)."""
    alternatives = prop.get("anyOf") or prop.get("oneOf")
    if isinstance(alternatives, list):
        out = []
        for branch in alternatives:
            branch = _resolve(root, branch)
            if isinstance(branch, dict) and branch.get("type") == "null":
                continue
            out.append(branch)
        return out
    kind = prop.get("type")
    if isinstance(kind, list):
        return [{**prop, "type": k} for k in kind if k != "null"]
    return [prop]


def _literal_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None


def _scalar_kind(root: dict[str, Any], prop: Any) -> str | None:
    """The scalar kind a property always holds (nulls aside), or ``None`` (object, array, mixed, untyped)."""
    prop = _resolve(root, prop)
    if not isinstance(prop, dict):
        return None
    kinds = set()
    for branch in _branches(root, prop):
        if not isinstance(branch, dict):
            return None
        kind = branch.get("type")
        if kind is None:
            values = branch["enum"] if isinstance(branch.get("enum"), list) else (
                [branch["const"]] if "const" in branch else None)
            if not values:
                return None
            kinds.update(_literal_kind(v) for v in values if v is not None)
            continue
        if kind == "string":
            fmt = branch.get("format")
            kinds.add("timestamp" if fmt == "date-time" else "date" if fmt == "date" else "string")
        elif kind == "integer":
            kinds.add("int")
        elif kind == "number":
            kinds.add("float")
        elif kind == "boolean":
            kinds.add("bool")
        else:
            return None
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def property_column(root: dict[str, Any], name: str, prop: Any) -> Column:
    """The column of one declared property."""
    scalar = _scalar_kind(root, prop)
    if scalar is not None:
        return Column(name, scalar)
    resolved = _resolve(root, prop)
    if isinstance(resolved, dict):
        branches = _branches(root, resolved)
        if len(branches) == 1 and isinstance(branches[0], dict) and branches[0].get("type") == "array":
            item = _scalar_kind(root, branches[0].get("items"))
            if item is not None:
                return Column(name, "list", item=item)
    return Column(name, "json")


def is_open(schema: TableSchema) -> bool:
    """Whether rows may carry fields the schema does not declare as columns (the query engine's rule)."""
    extra = schema.json_schema.get("additionalProperties")
    return not schema.properties or (extra is not None and extra is not False)


def table_columns(schema: TableSchema, vectors: list[tuple[str, str, int]] | None = None) -> list[Column]:
    """Every exported column of ``schema``; ``vectors``: ``(column name, provider spec, dimensions)``."""
    columns = [Column(n, "timestamp" if n.endswith("_at") else "edges" if n == "edges" else "string",
                      nullable=n not in _REQUIRED_SYSTEM) for n in SYSTEM_FIELDS]
    props = schema.properties if isinstance(schema.properties, dict) else {}
    columns += [property_column(schema.json_schema, name, prop) for name, prop in props.items()]
    if is_open(schema):
        columns.append(Column(EXTRA if EXTRA not in props else "_" + EXTRA, "extra"))
    for name, spec, dims in vectors or []:
        columns.append(Column(name, "vector", dimensions=dims, spec=spec))
    return columns


def arrow_schema(columns: list[Column], flat: bool = False, metadata: dict[str, str] | None = None) -> pa.Schema:
    """The Arrow schema of ``columns`` (``flat``: the CSV shape)."""
    return pa.schema([c.field(flat) for c in columns], metadata=metadata)
