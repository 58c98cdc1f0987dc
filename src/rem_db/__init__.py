"""REM Database: an embedded memory database for AI applications (Resources, Entities, Moments)."""

from .async_api import AsyncDatabase
from .database import Database
from .errors import (
    ConfigError,
    DatabaseError,
    EncryptionError,
    LockedError,
    NotFoundError,
    QueryError,
    ReadOnlyError,
    SchemaError,
    StorageError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncDatabase", "ConfigError", "Database", "DatabaseError", "EncryptionError", "LockedError",
    "NotFoundError", "QueryError", "ReadOnlyError", "SchemaError", "StorageError", "ValidationError",
    "__version__",
]
