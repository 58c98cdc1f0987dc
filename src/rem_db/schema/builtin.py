"""Built-in system schemas (SPEC §2), registered on `rem init` and on first open of every tenant."""

from __future__ import annotations

import copy
from typing import Any

_STR = {"type": "string"}
_OPT_STR = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
_TAGS = {"type": "array", "items": {"type": "string"}, "default": []}
_META = {"type": "object", "default": {}}
_OPT_TIME = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}], "default": None}

BUILTIN_VERSION = "1.0.0"


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str],
            **settings: Any) -> dict[str, Any]:
    return {
        "title": name,
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "short_name": name,
        "fully_qualified_name": f"rem.system.{name}",
        "version": BUILTIN_VERSION,
        "category": "system",
        **settings,
    }


BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "schemas": _schema(
        "schemas",
        "Every registered table schema: its JSON Schema, REM settings, version history and description.",
        {
            "name": _STR,
            "fully_qualified_name": _STR,
            "version": _STR,
            "description": _STR,
            "category": {"type": "string", "enum": ["system", "agents", "public", "user"]},
            "json_schema": {"type": "object"},
            "settings": {"type": "object"},
            "history": {"type": "array", "items": {"type": "object"}, "default": []},
        },
        ["name", "version", "description", "json_schema"],
        key_field="name", indexed_fields=["category"], embedding_fields=["description"],
    ),
    "documents": _schema(
        "documents",
        "One entry per ingested file: name, file:// uri, content type, size, sha256 hash and chunk count.",
        {
            "name": _STR,
            "uri": _STR,
            "content_type": _OPT_STR,
            "file_size": {"type": "integer", "minimum": 0},
            "file_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "category": _OPT_STR,
            "tags": _TAGS,
            "chunk_count": {"type": "integer", "minimum": 0, "default": 0},
            "metadata": _META,
        },
        ["name", "uri"],
        key_field="uri", indexed_fields=["content_type", "category"],
    ),
    "resources": _schema(
        "resources",
        "Chunks of documents and other text resources, embedded for semantic search.",
        {
            "name": _OPT_STR,
            "content": _STR,
            "uri": _OPT_STR,
            "chunk_ordinal": {"type": "integer", "minimum": 0, "default": 0},
            "document_id": _OPT_STR,
            "content_type": _OPT_STR,
            "category": _OPT_STR,
            "tags": _TAGS,
            "metadata": _META,
        },
        ["content"],
        key_field="uri", indexed_fields=["content_type", "category", "document_id"],
        # `name` first: an ingested chunk's name is its context header ("Title › Heading", docs/ingest.md),
        # embedded and BM25-indexed with the clean `content`; 1.1.0 added it (older databases upgrade on open)
        embedding_fields=["name", "content"], version="1.1.0",
    ),
    "moments": _schema(
        "moments",
        "Time-bounded summaries of what happened: work sessions, learning, planning, conversations.",
        {
            "name": _STR,
            "summary": _STR,
            "start_time": _OPT_TIME,
            "end_time": _OPT_TIME,
            "moment_type": {
                "anyOf": [{"type": "string", "enum": ["work_session", "learning", "planning", "communication",
                                                      "reflection", "creation", "other"]},
                          {"type": "null"}],
                "default": None,
            },
            "tags": _TAGS,
            "emotion_tags": _TAGS,
            "people": _TAGS,
            "resource_ids": _TAGS,
            "session_ids": _TAGS,
            "metadata": _META,
        },
        ["name", "summary"],
        key_field="name", indexed_fields=["start_time", "end_time", "moment_type"],
        embedding_fields=["summary"],
    ),
    "sessions": _schema(
        "sessions",
        "Conversation sessions between a user and an agent.",
        {"session_id": _STR, "user_id": _OPT_STR, "agent_uri": _OPT_STR, "metadata": _META},
        ["session_id"],
        key_field="session_id",
    ),
    "messages": _schema(
        "messages",
        "Messages of conversation sessions: role, content, tool calls and trace ids.",
        {
            "message_id": _STR,
            "session_id": _STR,
            "role": {"type": "string", "enum": ["user", "assistant", "system", "tool"]},
            "content": _STR,
            "tool_calls": {"type": "array", "default": []},
            "trace_id": _OPT_STR,
            "span_id": _OPT_STR,
            "metadata": _META,
        },
        ["message_id", "session_id", "role", "content"],
        key_field="message_id", indexed_fields=["session_id", "role"], embedding_fields=["content"],
    ),
}


def builtin_schema(name: str) -> dict[str, Any]:
    """A fresh copy of one built-in schema's JSON."""
    return copy.deepcopy(BUILTIN_SCHEMAS[name])
