"""Every setting read from the environment (SPEC §15), in one typed :class:`Settings` object.

``Settings.from_env()`` is the only place that reads ``os.environ``; a :class:`~rem_db.Database` reads it once
at open and hands each part the values it needs. A bad value is a :class:`~rem_db.errors.ConfigError` naming
the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

COMPRESSIONS = ("none", "snappy", "zlib", "bz2", "lz4", "lz4hc", "zstd")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_EMBEDDING = "local:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """The ``P8_*`` variables (and the providers' own key variables) with their defaults."""

    model_config = SettingsConfigDict(env_prefix="P8_", case_sensitive=False, frozen=True, extra="ignore",
                                      populate_by_name=True, env_ignore_empty=True)

    # where and who
    home: Path = Field(default_factory=lambda: Path.home() / ".p8")
    db_path: Path | None = None
    tenant_id: str = "default"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    # storage
    rocksdb_write_buffer_size: int | None = Field(default=None, ge=1)
    rocksdb_max_background_jobs: int | None = Field(default=None, ge=1)
    rocksdb_compression: Literal["none", "snappy", "zlib", "bz2", "lz4", "lz4hc", "zstd"] = "lz4"
    sync_writes: bool = False
    wal_enabled: bool = True
    wal_retention_hours: float = Field(default=24, gt=0)
    wal_max_size_mb: float = Field(default=100, gt=0)
    # embeddings
    default_embedding: str = DEFAULT_EMBEDDING
    alt_embedding: str | None = None
    embedding_batch_size: int = Field(default=100, ge=1)
    embedding_threads: int | None = Field(default=None, ge=1)
    local_embedding_precision: Literal["int8", "fp32"] = "int8"
    model_cache: Path | None = None
    openai_api_key: str | None = Field(default=None, validation_alias=AliasChoices("P8_OPENAI_API_KEY",
                                                                                  "OPENAI_API_KEY"))
    openai_base_url: str | None = None
    # export
    export_row_group_size: int = Field(default=10_000, ge=1)
    # LLMs (`rem ask`, `rem dream`)
    default_llm: str | None = None
    llm_base_url: str | None = None
    anthropic_api_key: str | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"))
    cerebras_api_key: str | None = Field(default=None, validation_alias=AliasChoices("CEREBRAS_API_KEY"))
    llm_timeout: float = Field(default=30, gt=0)  # seconds per chat request (docs/ask.md, "LLM planners")
    schema_brute_force_limit: int = Field(default=10, ge=1)
    schema_search_top_k: int = Field(default=3, ge=1)
    # encryption and replication
    password: str | None = None
    replication_mode: Literal["none", "primary", "replica"] = "none"
    primary_host: str | None = None
    replication_port: int = Field(default=50051, ge=1, le=65535)
    replication_token: str | None = None

    @field_validator("log_level", "rocksdb_compression", "local_embedding_precision", "replication_mode",
                     mode="before")
    @classmethod
    def _case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if info.field_name == "log_level" else value.lower()

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read the environment once; ``overrides`` (field names) win over it. Parsing is memoised on the
        variables that matter, so repeated calls cost a dict scan, not a validation."""
        given = {k: v for k, v in overrides.items() if v is not None}
        key = (tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES))),
               tuple(sorted((k, repr(v)) for k, v in given.items())))
        cached = _parsed.get(key)
        if cached is None:
            try:
                cached = cls(**given)
            except ValidationError as exc:
                raise ConfigError(_describe(exc)) from None
            if len(_parsed) > 64:
                _parsed.clear()
            _parsed[key] = cached
        return cached

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})

    @property
    def resolved_db_path(self) -> Path:
        """``P8_DB_PATH``, else ``$P8_HOME/db``."""
        return (self.db_path or self.home / "db").expanduser()


_ENV_PREFIXES = ("P8_", "HOME", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CEREBRAS_API_KEY")
_parsed: dict[tuple[Any, ...], Settings] = {}


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        names = {"openai_api_key": "P8_OPENAI_API_KEY", "anthropic_api_key": "ANTHROPIC_API_KEY",
                 "cerebras_api_key": "CEREBRAS_API_KEY"}
        name = names.get(field, f"P8_{field.upper()}")
        value = error.get("input")
        problems.append(f"{name}: {error['msg'].lower()} (got {value!r})")
    return "invalid setting " + "; ".join(problems)


def configure_logging(settings: Settings) -> None:
    """Log level from ``P8_LOG_LEVEL`` (default WARNING) for the ``rem_db`` loggers, to stderr."""
    import logging

    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rem_db").setLevel(settings.log_level)


def cpu_count() -> int:
    return os.cpu_count() or 1

