"""``anthropic:<model>``: the Anthropic messages API (``POST {base}/messages``).

Base URL ``https://api.anthropic.com/v1`` (``P8_LLM_BASE_URL`` overrides it, e.g. for a proxy or a server that
speaks the messages API); key ``ANTHROPIC_API_KEY`` sent as ``x-api-key`` with ``anthropic-version``.
Structured output is one tool whose ``input_schema`` is the schema, forced with ``tool_choice: {"type":
"tool", "name": …}``: the model's ``tool_use`` input is the answer.
"""

from __future__ import annotations

import json
from typing import Any

from ...config import Settings
from ...errors import LLMError
from .base import DEFAULT_MAX_TOKENS, register_client, schema_name
from .http import Endpoint, post_json

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
API_VERSION = "2023-06-01"
KEY_VARIABLE = "ANTHROPIC_API_KEY"


class AnthropicChat:
    """Messages in the Anthropic wire format."""

    provider = "anthropic"

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 30.0, max_wait: float | None = None) -> None:
        self.model = model
        self.api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_wait = max_wait

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    def _endpoint(self) -> Endpoint:
        if not self.api_key and self.base_url == DEFAULT_BASE_URL:
            raise LLMError(f"{self.spec}: no API key (set {KEY_VARIABLE})", provider=self.provider, kind="config")
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return Endpoint(self.provider, f"{self.base_url}/messages", headers, KEY_VARIABLE, self.timeout,
                        self.max_wait)

    def request_body(self, system: str, messages: list[dict[str, Any]], json_schema: dict[str, Any] | None,
                     max_tokens: int) -> dict[str, Any]:
        """The JSON body of one messages request."""
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens, "system": system,
                                "messages": list(messages)}
        if json_schema is not None:
            name, schema = schema_name(json_schema)
            body["tools"] = [{"name": name, "description": f"Return the {name.replace('_', ' ')}.",
                              "input_schema": schema}]
            body["tool_choice"] = {"type": "tool", "name": name}
        return body

    def complete(self, system: str, messages: list[dict[str, Any]], *, json_schema: dict[str, Any] | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        endpoint = self._endpoint()
        data = post_json(endpoint, self.request_body(system, messages, json_schema, max_tokens))
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise LLMError(f"{self.spec}: {endpoint.url} answered without content blocks",
                           provider=self.provider, kind="server")
        if json_schema is not None:
            for block in blocks:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    return json.dumps(block.get("input"), ensure_ascii=False)
        text = "".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        if not text:
            reason = data.get("stop_reason")
            raise LLMError(f"{self.spec}: the model's answer is empty (stop_reason {reason!r})",
                           provider=self.provider, kind="output")
        return text


def create(model: str, settings: Settings) -> AnthropicChat:
    """The ``anthropic:<model>`` client for ``settings`` (the registry's factory)."""
    return AnthropicChat(model, api_key=settings.anthropic_api_key, base_url=settings.llm_base_url,
                         timeout=settings.llm_timeout)


register_client("anthropic", create)
