"""The chat clients against a fake server on 127.0.0.1: each provider's wire format, retries, deadlines and the
errors a user sees (wrong key, missing key, unreachable server)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from fake_llm import FakeLLM, Slow, Status
from rem_db import ConfigError, LLMError
from rem_db.config import Settings
from rem_db.llm.clients import chat_client, client_providers, register_client
from rem_db.llm.clients.openai import OpenAIChat

SCHEMA = {"title": "thing", "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
          "additionalProperties": False}
HELLO = [{"role": "user", "content": "hello"}]
KEY_FIELDS = {"openai": "openai_api_key", "anthropic": "anthropic_api_key", "cerebras": "cerebras_api_key"}
KEY_VARIABLES = {"openai": "P8_OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "cerebras": "CEREBRAS_API_KEY"}


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CEREBRAS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def settings_for(fake: FakeLLM, provider: str = "openai", key: str | None = "test-key", **more: object) -> Settings:
    return Settings.from_env(llm_base_url=fake.base_url, **{KEY_FIELDS[provider]: key}, **more)


def test_openai_wire_format(server: FakeLLM) -> None:
    server.add({"a": 1})
    client = chat_client("openai:gpt-test", settings_for(server))
    out = client.complete("be brief", HELLO, json_schema=SCHEMA, max_tokens=50)
    assert json.loads(out) == {"a": 1}
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    body = request.body
    assert body["model"] == "gpt-test"
    assert body["messages"] == [{"role": "system", "content": "be brief"}, *HELLO]
    assert body["max_tokens"] == 50  # a server other than api.openai.com gets the field every server reads
    schema = {k: v for k, v in SCHEMA.items() if k != "title"}
    assert body["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "thing", "schema": schema, "strict": True}}


def test_openai_itself_gets_max_completion_tokens() -> None:
    body = OpenAIChat("gpt-4o-mini", api_key="k").request_body("s", HELLO, None, 10)
    assert body["max_completion_tokens"] == 10 and "max_tokens" not in body and "response_format" not in body


def test_openai_text_answer_without_schema(server: FakeLLM) -> None:
    server.add("Paris.")
    assert chat_client("openai:m", settings_for(server)).complete("s", HELLO) == "Paris."
    assert "response_format" not in server.requests[0].body


def test_local_server_needs_no_key() -> None:
    with FakeLLM(["ok"], api_key=None) as fake:
        client = chat_client("openai:llama", settings_for(fake, key=None))
        assert client.complete("s", HELLO) == "ok"
        assert "authorization" not in fake.requests[0].headers


def test_anthropic_wire_format(server: FakeLLM) -> None:
    server.add({"a": 2}, "plain text")
    client = chat_client("anthropic:claude-test", settings_for(server, "anthropic"))
    assert json.loads(client.complete("be brief", HELLO, json_schema=SCHEMA, max_tokens=64)) == {"a": 2}
    request = server.requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "test-key"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.body
    assert body["model"] == "claude-test" and body["max_tokens"] == 64
    assert body["system"] == "be brief" and body["messages"] == HELLO  # the system prompt is top-level
    assert body["tools"][0]["name"] == "thing"
    assert body["tools"][0]["input_schema"] == {k: v for k, v in SCHEMA.items() if k != "title"}
    assert body["tool_choice"] == {"type": "tool", "name": "thing"}
    # without a schema: no tools, the text blocks are the answer
    assert client.complete("s", HELLO) == "plain text"
    assert "tools" not in server.requests[1].body


def test_cerebras_wire_format(server: FakeLLM) -> None:
    server.add({"a": 3})
    client = chat_client("cerebras:llama-3.3-70b", settings_for(server, "cerebras"))
    assert json.loads(client.complete("s", HELLO, json_schema=SCHEMA)) == {"a": 3}
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "llama-3.3-70b"
    assert request.body["response_format"]["json_schema"]["strict"] is True


def test_default_base_urls_and_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env(cerebras_api_key="c", anthropic_api_key="a", openai_api_key="o")
    assert chat_client("cerebras:x", settings).base_url == "https://api.cerebras.ai/v1"
    assert chat_client("anthropic:x", settings).base_url == "https://api.anthropic.com/v1"
    assert chat_client("openai:x", settings).base_url == "https://api.openai.com/v1"
    monkeypatch.setenv("P8_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert chat_client("openai:x", Settings.from_env()).base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("provider", ["openai", "anthropic", "cerebras"])
def test_missing_key_names_the_variable(provider: str) -> None:
    client = chat_client(f"{provider}:m", Settings.from_env())
    with pytest.raises(LLMError) as info:
        client.complete("s", HELLO)
    assert info.value.kind == "config" and KEY_VARIABLES[provider] in str(info.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "cerebras"])
def test_wrong_key_is_a_clear_error(provider: str) -> None:
    with FakeLLM(["never sent"], api_key="the-right-key") as fake:
        client = chat_client(f"{provider}:m", settings_for(fake, provider, key="a-wrong-key"))
        with pytest.raises(LLMError) as info:
            client.complete("s", HELLO)
    error = info.value
    assert error.kind == "auth" and error.status == 401 and not error.transient
    assert str(error).startswith(f"{provider}: authentication failed")
    assert KEY_VARIABLES[provider] in str(error)
    assert len(fake.requests) == 1  # an auth error is not retried


def test_429_waits_for_retry_after(server: FakeLLM) -> None:
    server.add(Status(429, retry_after=1), "done")
    client = chat_client("openai:m", settings_for(server))
    started = time.monotonic()
    assert client.complete("s", HELLO) == "done"
    assert time.monotonic() - started >= 1.0  # the server asked for one second
    assert len(server.requests) == 2


def test_429_past_the_wait_limit_is_a_clear_error(server: FakeLLM) -> None:
    server.add(Status(429, retry_after=120, message="slow down"), "never")
    client = chat_client("openai:m", settings_for(server, llm_timeout=2))
    with pytest.raises(LLMError) as info:
        client.complete("s", HELLO)
    assert info.value.kind == "rate_limit" and info.value.transient
    assert "slow down" in str(info.value) and "P8_LLM_TIMEOUT" in str(info.value)
    assert len(server.requests) == 1  # it did not sit out two minutes


def test_429_retries_are_bounded(server: FakeLLM) -> None:
    server.add(*[Status(429, retry_after=0)] * 10)
    with pytest.raises(LLMError, match="still rate limited") as info:
        chat_client("cerebras:m", settings_for(server, "cerebras")).complete("s", HELLO)
    assert info.value.kind == "rate_limit" and len(server.requests) == 6  # the first try and five retries


def test_500_is_retried(server: FakeLLM) -> None:
    server.add(Status(500), Status(503), "recovered")
    client = chat_client("anthropic:m", settings_for(server, "anthropic", llm_timeout=1))
    assert client.complete("s", HELLO) == "recovered"
    assert len(server.requests) == 3


def test_500_retries_are_bounded(server: FakeLLM) -> None:
    server.add(*[Status(500, message="boom")] * 10)
    with pytest.raises(LLMError) as info:
        chat_client("openai:m", settings_for(server, llm_timeout=1)).complete("s", HELLO)
    assert info.value.kind == "server" and info.value.status == 500 and "boom" in str(info.value)
    assert len(server.requests) == 3  # the first try and two retries


def test_slow_answer_hits_the_deadline(server: FakeLLM) -> None:
    server.add(Slow(60, then="too late"))
    client = chat_client("openai:m", settings_for(server, llm_timeout=0.5))
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        client.complete("s", HELLO)
    assert time.monotonic() - started < 30  # the client gave up; the server would have taken a minute
    assert info.value.kind == "timeout" and "0.5 s" in str(info.value) and "P8_LLM_TIMEOUT" in str(info.value)
    assert len(server.requests) == 1  # a timeout is not retried


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    client = chat_client("openai:m", Settings.from_env(llm_base_url=url))
    with pytest.raises(LLMError) as info:
        client.complete("s", HELLO)
    assert info.value.kind == "unreachable" and f"{url}/chat/completions" in str(info.value)


def test_unknown_model_is_a_config_error(server: FakeLLM) -> None:
    server.add(Status(404, message="The model `nope` does not exist"))
    with pytest.raises(LLMError) as info:
        chat_client("openai:nope", settings_for(server)).complete("s", HELLO)
    assert info.value.kind == "config" and "does not exist" in str(info.value)


def test_empty_answer_is_an_output_error(server: FakeLLM) -> None:
    server.add("")
    with pytest.raises(LLMError) as info:
        chat_client("openai:m", settings_for(server)).complete("s", HELLO)
    assert info.value.kind == "output"


def test_registry() -> None:
    assert {"openai", "anthropic", "cerebras"} <= set(client_providers())
    with pytest.raises(ConfigError, match="provider one of"):
        chat_client("nope:model", Settings.from_env())
    with pytest.raises(ConfigError, match="provider:model"):
        chat_client("openai", Settings.from_env())

    class Echo:
        provider, model = "echo", "any"

        def complete(self, system: str, messages: list[dict], **kw: object) -> str:
            return messages[-1]["content"]

    register_client("echo-test", lambda model, settings: Echo())
    assert chat_client("echo-test:x", Settings.from_env()).complete("s", HELLO) == "hello"
