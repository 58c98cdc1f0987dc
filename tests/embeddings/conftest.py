from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch):
    """A fake OpenAI server, with the environment pointing the ``openai:`` provider at it (providers are
    cached per spec and settings, so the new base URL and key get a new provider)."""
    with FakeOpenAI() as server:
        monkeypatch.setenv("P8_OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", server.api_key)
        yield server
