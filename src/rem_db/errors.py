"""Typed exceptions raised by REM Database.

Every error the library raises on purpose is a :class:`DatabaseError`, so callers can catch one type;
the subclasses say what went wrong. Messages name the table, field, row or token at fault.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error REM Database raises on purpose."""


class ValidationError(DatabaseError):
    """An entity (or a batch) does not satisfy its schema or the entity rules; nothing was written.

    ``table``, ``position`` (0-based row of the batch, ``None`` for a single write), ``field`` and ``detail``
    (the message without the table/row prefix) say where, for callers that map rows back to their input.
    """

    def __init__(self, message: str, *, table: str | None = None, position: int | None = None,
                 field: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.position = position
        self.field = field
        self.detail = detail if detail is not None else message


class NotFoundError(DatabaseError):
    """An id, key, table or schema that does not exist."""


class SchemaError(DatabaseError):
    """A schema that cannot be registered, changed or removed."""


class QueryError(DatabaseError):
    """A query that cannot be parsed or executed."""


class ReadOnlyError(DatabaseError):
    """A write on a database opened read-only (or on a replica)."""


class LockedError(DatabaseError):
    """The directory is held read-write by another process (or handle)."""


class EncryptionError(DatabaseError):
    """A wrong or missing password, or data that cannot be decrypted."""


class EmbeddingError(DatabaseError):
    """An embedding provider failed (model files missing, HTTP error, dimension mismatch); nothing was written."""


class ConfigError(DatabaseError):
    """A setting (argument or environment variable) with an unusable value."""


class IngestError(DatabaseError):
    """A file (or directory) that cannot be ingested: missing, unsupported, unreadable, encrypted, corrupt.
    ``path`` names the file; the message says why."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class StorageError(DatabaseError):
    """The storage engine failed (I/O error, corrupt files, a path that is not a database)."""
