"""REM Database: an embedded memory database for AI applications (Resources, Entities, Moments)."""

from typing import TYPE_CHECKING, Any

from .database import Database, generate_key_pair, rekey
from .errors import (
    ConfigError,
    DatabaseError,
    EmbeddingError,
    EncryptionError,
    IngestError,
    LLMError,
    LockedError,
    NotFoundError,
    QueryError,
    ReadOnlyError,
    ReplicationError,
    SchemaError,
    StorageError,
    ValidationError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .async_api import AsyncDatabase


def __getattr__(name: str) -> Any:
    # AsyncDatabase pulls in asyncio; imported on first use so `rem` and plain users start faster.
    if name == "AsyncDatabase":
        from .async_api import AsyncDatabase

        return AsyncDatabase
    raise AttributeError(f"module 'rem_db' has no attribute {name!r}")

__all__ = [
    "AsyncDatabase", "ConfigError", "Database", "DatabaseError", "EmbeddingError", "EncryptionError", "IngestError",
    "LLMError", "LockedError", "NotFoundError", "QueryError", "ReadOnlyError", "ReplicationError", "SchemaError",
    "StorageError", "ValidationError", "__version__", "generate_key_pair", "rekey",
]
