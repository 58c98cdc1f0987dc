from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI

from rem_db.embeddings import base


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch):
    """A fake OpenAI server, with the environment pointing the ``openai:`` provider at it."""
    with FakeOpenAI() as server:
        monkeypatch.setenv("P8_OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", server.api_key)
        base._providers.clear()  # providers read their settings when created
        yield server
    base._providers.clear()
