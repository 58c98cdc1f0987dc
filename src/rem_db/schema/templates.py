"""Schema templates (`rem schema templates`, `rem schema add --name N --template T`)."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import SchemaError
from .builtin import builtin_schema
from .model import snake_case


def _agentlets() -> dict[str, Any]:
    return {
        "title": "agentlets",
        "type": "object",
        "description": "Agent-lets: small agents described in text, with the MCP tools and resources they use.",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "system_prompt": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "metadata": {"type": "object", "default": {}},
        },
        "required": ["name", "description"],
        "key_field": "name",
        "embedding_fields": ["description"],
        "tools": [],
        "resources": [],
    }


def _entities() -> dict[str, Any]:
    return {
        "title": "entities",
        "type": "object",
        "description": "Generic named entities with a key and free-form properties.",
        "properties": {
            "name": {"type": "string"},
            "key": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "properties": {"type": "object", "default": {}},
        },
        "required": ["name"],
        "key_field": "name",
    }


TEMPLATES: dict[str, str] = {
    "resources": "Chunks of text with a uri and chunk_ordinal, content embedded for search.",
    "entities": "Generic name / key / properties records, keyed by name.",
    "agentlets": "Agent descriptions (embedded) with MCP tools and resources.",
    "moments": "Time-bounded records with start_time / end_time, summary embedded.",
}


def template_schema(template: str, name: str) -> dict[str, Any]:
    """A copy of template ``template`` as a user table called ``name`` (FQN ``user.<name>``)."""
    if template not in TEMPLATES:
        raise SchemaError(f"unknown template {template!r} (templates: {', '.join(TEMPLATES)})")
    short = snake_case(name)
    if template in ("resources", "moments"):
        raw = builtin_schema(template)
    else:
        raw = _agentlets() if template == "agentlets" else _entities()
    raw = copy.deepcopy(raw)
    raw.update({"title": short, "short_name": short, "category": "user",
                "fully_qualified_name": f"user.{short}", "version": "1.0.0"})
    return raw
