"""``cerebras:<model>``: Cerebras inference, in the OpenAI chat-completions wire format.

Base URL ``https://api.cerebras.ai/v1`` (``P8_LLM_BASE_URL`` overrides it, e.g. for a proxy); key
``CEREBRAS_API_KEY``. Structured output is the same ``response_format`` ``json_schema`` with ``strict: true``
(Cerebras enforces it by constrained decoding).
"""

from __future__ import annotations

from ...config import Settings
from .base import register_client
from .openai import OpenAIChat

DEFAULT_BASE_URL = "https://api.cerebras.ai/v1"


class CerebrasChat(OpenAIChat):
    provider = "cerebras"
    default_base_url = DEFAULT_BASE_URL
    key_variable = "CEREBRAS_API_KEY"
    completion_tokens_hosts = ("api.cerebras.ai",)


def create(model: str, settings: Settings) -> CerebrasChat:
    """The ``cerebras:<model>`` client for ``settings`` (the registry's factory)."""
    return CerebrasChat(model, api_key=settings.cerebras_api_key, base_url=settings.llm_base_url,
                        timeout=settings.llm_timeout)


register_client("cerebras", create)
