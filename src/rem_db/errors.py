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


class ReplicationError(DatabaseError):
    """Replication cannot go on: the primary refused the replica (wrong token, diverged history), or it
    cannot be reached while catching up without ``follow``."""


class LLMError(DatabaseError):
    """A chat model (``rem ask``, ``--answer``, dreaming) could not be used: a missing or wrong key, an
    unreachable server, a timeout, rate limits or server errors that outlasted the retries, or a refused
    request. ``provider`` names it (``openai``, ``anthropic``, ``cerebras``), ``status`` is the HTTP status (if
    any) and ``kind`` says what happened: ``config``, ``auth``, ``unreachable``, ``timeout``, ``rate_limit``,
    ``server``, ``refused`` or ``output``. The first three are the user's to fix; the others may pass."""

    TRANSIENT = frozenset({"timeout", "rate_limit", "server", "refused", "output"})

    def __init__(self, message: str, *, provider: str = "", kind: str = "refused",
                 status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.kind = kind
        self.status = status

    @property
    def transient(self) -> bool:
        """True when another request (or another question) may well succeed: not a setting to fix."""
        return self.kind in self.TRANSIENT
