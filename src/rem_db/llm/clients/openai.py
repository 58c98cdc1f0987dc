"""``openai:<model>``: OpenAI chat completions (``POST {base}/chat/completions``), and any server that speaks them.

Base URL: ``P8_LLM_BASE_URL``, else ``P8_OPENAI_BASE_URL``, else ``https://api.openai.com/v1``; local servers
(llama.cpp, vLLM, Ollama, LM Studio, …) work through the first. Key: ``P8_OPENAI_API_KEY`` or
``OPENAI_API_KEY``, required for api.openai.com only (a local server usually needs none; a key given is sent).
Structured output is asked for with ``response_format: {"type": "json_schema", "json_schema": {"name",
"schema", "strict": true}}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ...config import Settings
from ...errors import LLMError
from .base import DEFAULT_MAX_TOKENS, register_client, schema_name
from .http import Endpoint, post_json

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_VARIABLE = "P8_OPENAI_API_KEY / OPENAI_API_KEY"


class OpenAIChat:
    """Chat completions in the OpenAI wire format (also the base of the Cerebras client)."""

    provider = "openai"
    default_base_url = DEFAULT_BASE_URL
    key_variable = KEY_VARIABLE
    #: hosts that take ``max_completion_tokens`` (``max_tokens`` is deprecated there and refused by reasoning
    #: models); other servers get ``max_tokens``, which every OpenAI-compatible server reads
    completion_tokens_hosts: tuple[str, ...] = ("api.openai.com",)

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 30.0, max_wait: float | None = None) -> None:
        self.model = model
        self.api_key = api_key
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.timeout = timeout
        self.max_wait = max_wait

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.model}"

    def _endpoint(self) -> Endpoint:
        if not self.api_key and self.base_url == self.default_base_url.rstrip("/"):
            raise LLMError(f"{self.spec}: no API key (set {self.key_variable}, or P8_LLM_BASE_URL for a local "
                           f"server)", provider=self.provider, kind="config")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return Endpoint(self.provider, f"{self.base_url}/chat/completions", headers, self.key_variable,
                        self.timeout, self.max_wait)

    def request_body(self, system: str, messages: list[dict[str, Any]], json_schema: dict[str, Any] | None,
                     max_tokens: int) -> dict[str, Any]:
        """The JSON body of one chat-completions request."""
        host = urlparse(self.base_url).hostname or ""
        tokens_key = "max_completion_tokens" if host in self.completion_tokens_hosts else "max_tokens"
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, *messages],
            tokens_key: max_tokens,
        }
        if json_schema is not None:
            name, schema = schema_name(json_schema)
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": name, "schema": schema, "strict": True}}
        return body

    def complete(self, system: str, messages: list[dict[str, Any]], *, json_schema: dict[str, Any] | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        endpoint = self._endpoint()
        data = post_json(endpoint, self.request_body(system, messages, json_schema, max_tokens))
        return self._content(data, endpoint.url)

    def _content(self, data: dict[str, Any], url: str) -> str:
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise LLMError(f"{self.spec}: {url} answered without choices[0].message",
                           provider=self.provider, kind="server") from None
        if not isinstance(message, dict):
            raise LLMError(f"{self.spec}: {url} answered with a malformed message",
                           provider=self.provider, kind="server")
        content = message.get("content")
        if isinstance(content, list):  # content parts, as some servers send them
            content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        if not content:
            if message.get("refusal"):
                raise LLMError(f"{self.spec}: the model refused: {message['refusal']}",
                               provider=self.provider, kind="output")
            raise LLMError(f"{self.spec}: the model's answer is empty", provider=self.provider, kind="output")
        return str(content)


def create(model: str, settings: Settings) -> OpenAIChat:
    """The ``openai:<model>`` client for ``settings`` (the registry's factory)."""
    return OpenAIChat(model, api_key=settings.openai_api_key,
                      base_url=settings.llm_base_url or settings.openai_base_url, timeout=settings.llm_timeout)


register_client("openai", create)
