"""A table's columns for export: its :class:`~rem_db.schema.model.TableSchema` mapped to Arrow types.

Column order: the system fields (``id``, ``entity_type``, ``created_at``, ``modified_at``, ``deleted_at``,
``edges``), the declared properties in schema order, ``extra`` (only for open tables, see below), then the
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

Types are read through :mod:`rem_db.schema.types` (``$ref``, ``anyOf``/``oneOf``, enums). A ``null``
branch (``anyOf: [X, null]``, ``type: [X, "null"]``) only makes the column nullable (every
column but ``id``, ``entity_type``, ``created_at`` and ``modified_at`` is). A table is *open* unless its
schema sets ``additional_properties: false`` (or JSON Schema's ``additionalProperties: false``), the query
engine's rule; its undeclared fields go to ``extra`` as one JSON object per row (``_extra`` when the schema
declares a property named ``extra``, and so on).

``flat=True`` gives the CSV shape: list, struct and vector columns become JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..schema.model import SYSTEM_FIELDS, TableSchema
from ..schema.types import FieldType, type_of

TIMESTAMP = pa.timestamp("us", tz="UTC")
JSON_META = {b"rem.type": b"json"}
EXTRA = "extra"
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
_KINDS = {"integer": "int", "number": "float", "boolean": "bool"}
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


def scalar_kind(ft: FieldType | None) -> str | None:
    """The scalar kind of a type that always holds one scalar type (nulls aside), else ``None`` (object,
    array, mixed or untyped values). Integers mixed with numbers are floats."""
    if ft is None or ft.types is None:
        return None
    if ft.types == {"integer", "number"}:
        return "float"
    if len(ft.types) != 1:
        return None
    kind = next(iter(ft.types))
    if kind == "string":
        return "timestamp" if ft.format == "date-time" else "date" if ft.format == "date" else "string"
    return _KINDS.get(kind)


def property_column(root: dict[str, Any], name: str, prop: Any) -> Column:
    """The column of one declared property."""
    ft = type_of(prop, root)
    scalar = scalar_kind(ft)
    if scalar is not None:
        return Column(name, scalar)
    item = scalar_kind(ft.items) if ft.types == {"array"} else None
    return Column(name, "list", item=item) if item is not None else Column(name, "json")


def is_open(schema: TableSchema) -> bool:
    """Whether rows may carry fields the schema does not declare as columns (the query engine's rule)."""
    return schema.additional_properties


def extra_column_name(declared: Any) -> str:
    """``extra``, or ``_extra``, ``__extra`` … when the schema declares a property of that name."""
    name = EXTRA
    while name in declared:
        name = "_" + name
    return name


def table_columns(schema: TableSchema, vectors: list[tuple[str, str, int]] | None = None) -> list[Column]:
    """Every exported column of ``schema``; ``vectors``: ``(column name, provider spec, dimensions)``."""
    columns = [Column(n, "timestamp" if n.endswith("_at") else "edges" if n == "edges" else "string",
                      nullable=n not in _REQUIRED_SYSTEM) for n in SYSTEM_FIELDS]
    props = schema.properties if isinstance(schema.properties, dict) else {}
    columns += [property_column(schema.json_schema, name, prop) for name, prop in props.items()]
    if is_open(schema):
        columns.append(Column(extra_column_name(props), "extra"))
    for name, spec, dims in vectors or []:
        columns.append(Column(name, "vector", dimensions=dims, spec=spec))
    return columns


def arrow_schema(columns: list[Column], flat: bool = False, metadata: dict[str, str] | None = None) -> pa.Schema:
    """The Arrow schema of ``columns`` (``flat``: the CSV shape)."""
    return pa.schema([c.field(flat) for c in columns], metadata=metadata)
