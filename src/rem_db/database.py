"""The :class:`Database` facade: one object per open REM directory and tenant (SPEC §14)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .config import StorageSettings, default_db_path, default_tenant
from .entities.engine import EntityEngine
from .entities.ids import parse_id
from .errors import EncryptionError, NotFoundError, ReadOnlyError, StorageError, ValidationError
from .replication.wal import WalWriter
from .schema.loader import load_schema_source
from .schema.model import TableSchema
from .schema.registry import SchemaRegistry
from .schema.templates import TEMPLATES, template_schema
from .storage.keyspace import Keyspace
from .storage.store import Store
from .worker import BackgroundWorker


class Database:
    """An embedded REM database.

    ``Database(path=None, tenant_id=None, read_only=False, password=None)``; ``path`` defaults to
    ``$P8_DB_PATH`` (``$P8_HOME/db``), ``tenant_id`` to ``$P8_TENANT_ID`` (``default``). One process opens
    a directory read-write; others get :class:`~rem_db.LockedError` and may open it ``read_only=True``.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, tenant_id: str | None = None,
                 read_only: bool = False, password: str | None = None, *,
                 sync_writes: bool | None = None) -> None:
        if password is not None or os.environ.get("P8_PASSWORD"):
            raise EncryptionError("encryption at rest (SPEC §10) is not available in this build yet; "
                                  "open the database without a password")
        settings = StorageSettings.from_env()
        if sync_writes is not None:
            settings = StorageSettings(**{**settings.__dict__, "sync_writes": sync_writes})
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.tenant_id = tenant_id or default_tenant()
        self.read_only = read_only
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create database directory {self.path}: {exc}") from None
        self._store = Store(self.path, read_only=read_only, settings=settings)
        try:
            self._keyspace = Keyspace(self.tenant_id)
            self._wal = WalWriter(self._store, enabled=settings.wal_enabled)
            self.schemas = SchemaRegistry()
            self._engine = EntityEngine(self._store, self._keyspace, self._wal, self.schemas.get)
            self.schemas.load(self._engine, read_only)
            self.worker = BackgroundWorker()
        except BaseException:
            self._store.close()
            raise
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"<Database {str(self.path)!r} tenant={self.tenant_id!r} {mode}>"

    def close(self) -> None:
        """Drain the background worker, flush memtables and release the directory."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        self.worker.shutdown()
        self._store.flush()
        self._store.close()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for background work (index saves, async embeddings) to finish."""
        return self.worker.wait_idle(timeout)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"database {self.path} is open read-only")

    # -- schemas -----------------------------------------------------------------------------------
    def register_schema(self, model_or_dict: Any, name: str | None = None, force: bool = False) -> dict[str, Any]:
        """Register a table from a Pydantic model, a dict, a JSON/YAML file path or ``module:Class``.

        Re-registering with a higher major version (or a lower version) needs ``force=True``.
        """
        self._writable()
        schema = self.schemas.register(load_schema_source(model_or_dict), name=name, force=force)
        return self.schemas.describe(schema.short_name)

    def list_schemas(self, category: str | None = None) -> list[dict[str, Any]]:
        """Every table with its settings (``category`` filters: system, agents, public, user)."""
        return [s.settings() for s in self.schemas.all() if category is None or s.category == category]

    def get_schema(self, name: str) -> dict[str, Any]:
        """One table's settings, JSON Schema and version history."""
        return self.schemas.describe(name)

    def remove_schema(self, name: str) -> int:
        """Drop a user table and all its rows; system tables cannot be removed. Returns rows removed."""
        self._writable()
        return self.schemas.remove(name)

    @staticmethod
    def schema_templates() -> dict[str, str]:
        """Template name -> what it is for."""
        return dict(TEMPLATES)

    def add_schema_from_template(self, name: str, template: str) -> dict[str, Any]:
        """Register a user table ``name`` copied from ``template``."""
        return self.register_schema(template_schema(template, name))

    # -- writes ------------------------------------------------------------------------------------
    def insert(self, table: str, data: Any) -> dict[str, Any]:
        """Insert one entity (a dict or Pydantic instance); an existing id makes it an upsert."""
        self._writable()
        return self._engine.put_many(table, [data], single=True)[0]

    def insert_batch(self, table: str, rows: Iterable[Any]) -> list[dict[str, Any]]:
        """Insert many entities of one table: all validated first, then written in one atomic batch."""
        self._writable()
        return self._engine.put_many(table, list(rows))

    def upsert(self, models: Any, data: Any = None) -> list[dict[str, Any]] | dict[str, Any]:
        """Upsert Pydantic instances (table from the model's schema, registered on first use), or
        ``upsert(table, data)`` with a dict or a list of dicts."""
        self._writable()
        if isinstance(models, str):
            if isinstance(data, list):
                return self.insert_batch(models, data)
            return self.insert(models, data)
        items = list(models) if isinstance(models, list | tuple) else [models]
        by_table: dict[str, list[Any]] = {}
        for item in items:
            if not hasattr(item, "model_json_schema"):
                raise ValidationError("upsert() takes Pydantic model instances, or (table, data)")
            by_table.setdefault(self._table_for_model(type(item)), []).append(item)
        out = [r for table, rows in by_table.items() for r in self._engine.put_many(table, rows)]
        return out if isinstance(models, list | tuple) else out[0]

    def _table_for_model(self, model: type) -> str:
        raw = load_schema_source(model)
        name = TableSchema.from_json_schema(raw).short_name
        if self.schemas.find(name) is None:
            self.schemas.register(raw)
        return name

    def update(self, id: str | uuid.UUID, patch: Any) -> dict[str, Any]:
        """Merge ``patch`` into the entity's user fields (fields not named are kept), validated."""
        self._writable()
        return self._engine.update(parse_id(id), patch)

    def delete(self, id: str | uuid.UUID, hard: bool = False) -> None:
        """Soft delete (sets ``deleted_at``), or ``hard=True``: remove the entity, its index entries and
        every edge into or out of it."""
        self._writable()
        ident = parse_id(id)
        if hard:
            self._engine.hard_delete(ident)
        else:
            self._engine.soft_delete(ident)

    # -- reads -------------------------------------------------------------------------------------
    def get(self, id: str | uuid.UUID, include_deleted: bool = False) -> dict[str, Any]:
        """The entity with this id; :class:`NotFoundError` if there is none (or it is soft-deleted)."""
        ident = parse_id(id)
        record = self._engine.get(ident.bytes)
        if record is None or (record.get("deleted_at") and not include_deleted):
            raise NotFoundError(f"no entity with id {ident}")
        return record

    def get_batch(self, ids: Iterable[str | uuid.UUID], include_deleted: bool = False) -> list[dict[str, Any] | None]:
        """Entities for many ids in one read, ``None`` where an id has none."""
        idents = [parse_id(i) for i in ids]
        return [r if r is not None and (include_deleted or not r.get("deleted_at")) else None
                for r in self._engine.get_many([i.bytes for i in idents])]

    def rows(self, table: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every entity of a table (live ones unless ``include_deleted``)."""
        self.schemas.get(table)
        return self._engine.rows(table, include_deleted)

    def count(self, table: str, include_deleted: bool = False) -> int:
        """Number of entities in a table, read from the index."""
        self.schemas.get(table)
        return self._engine.fields.count_table(table, include_deleted)

    def lookup(self, key: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Entities of any table whose uri, key field, ``key`` or ``name`` equals ``key`` exactly."""
        return self.lookup_batch([key], include_deleted)[key]

    def lookup_batch(self, keys: Iterable[str], include_deleted: bool = False) -> dict[str, list[dict[str, Any]]]:
        """``lookup`` for many keys in one call: key -> matching entities."""
        keys = list(keys)
        found = {k: [id16 for _, id16 in self._engine.keys.find(str(k))] for k in keys}
        wanted = list(dict.fromkeys(i for ids in found.values() for i in ids))
        records = dict(zip(wanted, self._engine.get_many(wanted), strict=True))
        return {k: [records[i] for i in ids if records.get(i) is not None
                    and (include_deleted or not records[i].get("deleted_at"))] for k, ids in found.items()}

    @property
    def index(self) -> Any:
        """Internal field-index read API (equality / range / ordered scan), for the query engine."""
        return self._engine.fields

    def stats(self) -> dict[str, Any]:
        """Row counts per table and the WAL position."""
        return {
            "path": str(self.path),
            "tenant": self.tenant_id,
            "read_only": self.read_only,
            "tables": {s.short_name: self._engine.fields.count_table(s.short_name) for s in self.schemas.all()},
            "wal_seq": self._wal.last_seq,
        }
