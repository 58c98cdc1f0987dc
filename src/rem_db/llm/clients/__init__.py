"""Chat clients (OpenAI-compatible, Anthropic, Cerebras) over httpx, by provider: :func:`.base.chat_client`."""

from .base import ChatClient, chat_client, client_providers, register_client, split_model

__all__ = ["ChatClient", "chat_client", "client_providers", "register_client", "split_model"]
