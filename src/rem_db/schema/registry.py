"""The schema registry: tables of one tenant, persisted as rows of the built-in ``schemas`` table."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import NotFoundError, SchemaError
from ..storage.codec import now_iso
from .builtin import BUILTIN_SCHEMAS, builtin_schema
from .diff import schema_changes
from .model import TableSchema

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

SCHEMAS = "schemas"


def _row(schema: TableSchema, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": schema.short_name,
        "fully_qualified_name": schema.fully_qualified_name,
        "version": schema.version,
        "description": schema.description,
        "category": schema.category,
        "json_schema": schema.json_schema,
        "settings": schema.settings(),
        "history": history,
    }


def _same_definition(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Equal JSON Schemas, as stored: a schema read back from disk has lists where the caller may have
    written tuples, so re-registering the same dict after a reopen stays a no-op."""
    if old == new:
        return True
    try:
        return bool(orjson.loads(orjson.dumps(old, option=orjson.OPT_NAIVE_UTC))
                    == orjson.loads(orjson.dumps(new, option=orjson.OPT_NAIVE_UTC)))
    except (orjson.JSONEncodeError, TypeError):  # not storable as JSON: then it is not the stored schema
        return False


def _index_layout(schema: TableSchema) -> tuple[Any, ...]:
    return schema.key_field, schema.indexed_fields, schema.timestamp_fields


class SchemaRegistry:
    """In-memory view of the registered tables, kept in step with the ``schemas`` table."""

    def __init__(self) -> None:
        self._tables: dict[str, TableSchema] = {
            name: TableSchema.from_json_schema(builtin_schema(name)) for name in BUILTIN_SCHEMAS
        }
        self._history: dict[str, list[dict[str, Any]]] = {}
        self.engine: EntityEngine | None = None

    # -- lookups -----------------------------------------------------------------------------------
    def get(self, name: str) -> TableSchema:
        schema = self._tables.get(name)
        if schema is None:
            raise NotFoundError(f"unknown table {name!r} (tables: {', '.join(sorted(self._tables))})")
        return schema

    def find(self, name: str) -> TableSchema | None:
        return self._tables.get(name)

    def all(self) -> list[TableSchema]:
        return [self._tables[n] for n in sorted(self._tables)]

    def history(self, name: str) -> list[dict[str, Any]]:
        return list(self._history.get(name, []))

    def describe(self, name: str) -> dict[str, Any]:
        """The schema as users see it: settings, JSON Schema and version history."""
        schema = self.get(name)
        return {**schema.settings(), "json_schema": schema.json_schema, "history": self.history(name)}

    # -- lifecycle ---------------------------------------------------------------------------------
    def reload(self, engine: EntityEngine) -> None:
        """Read the stored schemas again (a replica after its primary registered, changed or removed one);
        swapped whole, so readers never see a half-loaded registry, and tables removed upstream go too."""
        fresh = SchemaRegistry()
        fresh.load(engine, read_only=True)
        self._tables, self._history = fresh._tables, fresh._history

    def load(self, engine: EntityEngine, read_only: bool) -> None:
        """Read the stored schemas; register built-ins that are missing or older than this build's."""
        self.engine = engine
        for row in engine.rows(SCHEMAS):
            try:
                schema = TableSchema.from_json_schema(row["json_schema"], name=row["name"])
            except SchemaError:
                continue  # a stored schema this build cannot read stays stored, unused
            self._tables[schema.short_name] = schema
            self._history[schema.short_name] = row.get("history") or []
        if read_only:
            return
        for name in BUILTIN_SCHEMAS:
            stored = self._history.get(name)
            code = TableSchema.from_json_schema(builtin_schema(name))
            if stored is None or self._tables[name].version_tuple < code.version_tuple:
                self._persist(code, self._tables.get(name) if stored is not None else None)

    def register(self, raw: dict[str, Any], name: str | None = None, force: bool = False) -> TableSchema:
        """Register or re-register a table; version rules of SPEC §2 apply."""
        schema = TableSchema.from_json_schema(raw, name=name)
        old = self._tables.get(schema.short_name)
        if old is not None and old.category == "system" and not force:
            raise SchemaError(f"table {schema.short_name!r} is a system schema and cannot be redefined")
        if old is not None:
            if _same_definition(old.json_schema, schema.json_schema):
                return old
            new_v, old_v = schema.version_tuple, old.version_tuple
            if new_v == old_v and not force:
                raise SchemaError(f"schema {schema.short_name!r} version {schema.version} is already registered "
                                  f"with a different definition ({'; '.join(schema_changes(old, schema))}); "
                                  f"register it as a new version, or replace {schema.version} with force=True "
                                  f"(--force)")
            if new_v[0] > old_v[0] and not force:
                raise SchemaError(f"schema {schema.short_name!r}: major version change {old.version} -> "
                                  f"{schema.version} refused; re-register with force=True (--force)")
            if new_v < old_v and not force:
                raise SchemaError(f"schema {schema.short_name!r}: version {schema.version} is older than the "
                                  f"registered {old.version}; re-register with force=True (--force)")
        self._persist(schema, old)
        if old is not None and old.hnsw != schema.hnsw and self.engine is not None \
                and self.engine.embedder is not None:  # a new m / ef_construction rebuilds the vector index
            self.engine.embedder.index_settings_changed(old, schema)
        return schema

    def _persist(self, schema: TableSchema, old: TableSchema | None) -> None:
        assert self.engine is not None
        entry = {"version": schema.version, "registered_at": now_iso(), "json_schema": schema.json_schema}
        history = [*self.history(schema.short_name), entry]
        if old is not None and _index_layout(old) != _index_layout(schema):
            self.engine.reindex(old, schema)
        self.engine.put_many(SCHEMAS, [_row(schema, history)], single=True, embed_mode="lazy")
        self._tables[schema.short_name] = schema
        self._history[schema.short_name] = history

    def remove(self, name: str) -> int:
        """Drop a user table: its rows (with their indexes and edges) and its schema. Returns rows removed."""
        schema = self.get(name)
        if schema.category == "system":
            raise SchemaError(f"table {name!r} is a system schema and cannot be removed")
        assert self.engine is not None
        removed = self.engine.drop_table(schema)
        for table, id16 in self.engine.keys.find(name):
            if table == SCHEMAS:
                self.engine.hard_delete(uuid.UUID(bytes=id16))
        del self._tables[name]
        self._history.pop(name, None)
        return removed
