"""Settings read from the environment (SPEC §15), resolved once per :class:`~rem_db.Database`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

COMPRESSIONS = ("none", "snappy", "zlib", "bz2", "lz4", "lz4hc", "zstd")


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def env_count(name: str, default: int) -> int:
    """A positive whole number from ``$name`` (``default`` when unset or blank); a ConfigError otherwise."""
    size = _env_int(name, default)
    assert size is not None
    if size < 1:
        raise ConfigError(f"{name} must be at least 1, got {size}")
    return size


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def home_dir() -> Path:
    """``$P8_HOME`` (default ``~/.p8``)."""
    return Path(os.environ.get("P8_HOME") or Path.home() / ".p8").expanduser()


def default_db_path() -> Path:
    """``$P8_DB_PATH`` (default ``$P8_HOME/db``)."""
    raw = os.environ.get("P8_DB_PATH")
    return Path(raw).expanduser() if raw else home_dir() / "db"


def default_tenant() -> str:
    """``$P8_TENANT_ID`` (default ``default``)."""
    return os.environ.get("P8_TENANT_ID") or "default"


@dataclass(frozen=True)
class StorageSettings:
    """RocksDB and durability settings (``P8_ROCKSDB_*``, ``P8_SYNC_WRITES``, ``P8_WAL_ENABLED``)."""

    write_buffer_size: int | None = None
    max_background_jobs: int | None = None
    compression: str = "lz4"
    sync_writes: bool = False
    wal_enabled: bool = True

    @classmethod
    def from_env(cls) -> StorageSettings:
        compression = (os.environ.get("P8_ROCKSDB_COMPRESSION") or "lz4").strip().lower()
        if compression not in COMPRESSIONS:
            raise ConfigError(
                f"P8_ROCKSDB_COMPRESSION must be one of {', '.join(COMPRESSIONS)}, got {compression!r}"
            )
        return cls(
            write_buffer_size=_env_int("P8_ROCKSDB_WRITE_BUFFER_SIZE", None),
            max_background_jobs=_env_int("P8_ROCKSDB_MAX_BACKGROUND_JOBS", None),
            compression=compression,
            sync_writes=_env_bool("P8_SYNC_WRITES", False),
            wal_enabled=_env_bool("P8_WAL_ENABLED", True),
        )


def configure_logging() -> None:
    """Log level from ``P8_LOG_LEVEL`` (default WARNING) for the ``rem_db`` loggers, to stderr."""
    import logging

    level = (os.environ.get("P8_LOG_LEVEL") or "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"P8_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rem_db").setLevel(level)
