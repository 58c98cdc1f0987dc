"""Schemas shared by the embedding tests (imported as ``embed_helpers``)."""

from __future__ import annotations

from typing import Any

NOTES: dict[str, Any] = {
    "title": "notes",
    "type": "object",
    "description": "Short notes, embedded for search.",
    "properties": {
        "key": {"type": "string"},
        "body": {"type": "string"},
        "title": {"type": "string"},
        "topic": {"type": "string"},
    },
    "required": ["key", "body"],
    "indexed_fields": ["topic"],
    "embedding_fields": ["title", "body"],
}


def openai_notes() -> dict[str, Any]:
    """``notes`` embedded by the ``openai:`` provider (the fake server in tests)."""
    return {**NOTES, "title": "onotes", "embedding_provider": "openai:text-embedding-3-small"}
