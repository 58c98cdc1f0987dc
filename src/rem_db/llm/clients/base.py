"""Chat clients behind a registry by provider (``openai``, ``anthropic``, ``cerebras``), shared by the LLM planner,
the answer writer and dreaming.

A model is named ``provider:model`` (``openai:gpt-4o-mini``, ``anthropic:claude-3-5-haiku-latest``,
``cerebras:llama-3.3-70b``); :func:`chat_client` makes its client. A provider is one module ending in one
registration line::

    register_client("openai", create)      # create(model, settings) -> ChatClient

Every client speaks over httpx with the policy of :mod:`.http` (a deadline per request, bounded retries) and
raises :class:`~rem_db.errors.LLMError` when the model cannot be used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ...config import Settings
from ...errors import ConfigError
from ...registry import Registry

#: the default answer length (tokens) a caller gets when it does not say
DEFAULT_MAX_TOKENS = 1024


class ChatClient(Protocol):
    """One chat model of one provider."""

    #: ``openai`` | ``anthropic`` | ``cerebras`` | …
    provider: str
    #: the provider's model name (``gpt-4o-mini``)
    model: str

    def complete(self, system: str, messages: list[dict[str, Any]], *, json_schema: dict[str, Any] | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        """The model's answer to ``messages`` (``[{"role": "user" | "assistant", "content": str}, …]``) under the
        ``system`` prompt. With ``json_schema`` (a JSON Schema whose ``title`` names it) the answer is asked for
        in the provider's structured-output form and returned as JSON text — still to be validated: a model
        may ignore it."""
        ...


ClientFactory = Callable[[str, Settings], ChatClient]

#: modules that register the built-in clients (imported on the first lookup)
BUILTIN_CLIENTS = ("rem_db.llm.clients.openai", "rem_db.llm.clients.anthropic", "rem_db.llm.clients.cerebras")

_registry: Registry[ClientFactory] = Registry("chat client provider", BUILTIN_CLIENTS)


def register_client(provider: str, factory: ClientFactory, *, replace: bool = False) -> None:
    """Make ``provider:<model>`` resolve to ``factory(model, settings)``."""
    if not provider or ":" in provider:
        raise ValueError(f"chat client provider {provider!r} must be a non-empty name without ':'")
    _registry.add(provider, factory, replace=replace, same=lambda a, b: a is b)


def client_providers() -> list[str]:
    return _registry.names()


def split_model(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4o-mini"`` → ``("openai", "gpt-4o-mini")``; a model name is required."""
    provider, _, name = spec.partition(":")
    provider, name = provider.strip().lower(), name.strip()
    if not provider or not name:
        raise ConfigError(f"model {spec!r} must be written provider:model (e.g. openai:gpt-4o-mini)")
    return provider, name


def chat_client(spec: str, settings: Settings) -> ChatClient:
    """The client for ``spec`` (``provider:model``)."""
    provider, name = split_model(spec)
    factory = _registry.get(provider)
    if factory is None:
        raise ConfigError(f"unknown model {spec!r}: expected provider:model with provider one of "
                          f"{', '.join(client_providers())}")
    return factory(name, settings)


def schema_name(json_schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The name of a structured-output schema (its ``title``, default ``response``) and the schema without it
    (providers take the name beside the schema)."""
    schema = dict(json_schema)
    name = str(schema.pop("title", "") or "response")
    return name, schema
