"""A fake chat-model server on 127.0.0.1 for tests and benchmarks (import it as ``fake_llm``; outside pytest add
the repository's ``tests/`` directory to ``sys.path`` first).

It speaks the OpenAI chat-completions wire format (``POST /v1/chat/completions``, also Cerebras') and the
Anthropic messages format (``POST /v1/messages``, ``x-api-key`` + ``anthropic-version``), and answers from a
script::

    from fake_llm import FakeLLM, Malformed, Slow, Status

    with FakeLLM(responses=[Status(429, retry_after=1), {"query_type": "sql", ...}]) as server:
        settings = Settings.from_env(llm_base_url=server.base_url, openai_api_key=server.api_key)
        ...                              # any provider: openai / cerebras / anthropic
        server.requests[-1].system       # what the client sent (system prompt, messages, headers, body)

Script items, one per request, in order:

- a ``dict`` (or ``list``): a successful answer whose content is that JSON — in the OpenAI format the
  message content is its JSON text; in the Anthropic format it is the ``input`` of a ``tool_use`` block when
  the request offered a tool, else the JSON text in a text block;
- a ``str``: a successful answer with exactly that text (``Malformed("{oops")`` is the same, by name);
- ``Status(code, retry_after=None, message=...)``: that HTTP error (429 with ``Retry-After``, 500, …);
- ``Slow(seconds, then)``: ``then`` after ``seconds`` (for timeouts);
- a callable ``f(request) -> item``: computed per request (e.g. replaying recorded plans by question:
  ``request.question`` is the text after the last ``Question:`` of the last user message).

When the script is used up, ``default`` answers (``None``: a 500 saying the script is exhausted). A request
whose key differs from ``api_key`` gets 401 like the real APIs (``api_key=None`` accepts any key or none).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Status:
    """An HTTP error answer."""

    code: int
    retry_after: float | str | None = None
    message: str = ""


@dataclass(frozen=True)
class Slow:
    """``then`` after ``seconds``."""

    seconds: float
    then: Any = field(default_factory=lambda: {"ok": True})


def Malformed(text: str) -> str:
    """A successful answer whose text is not valid JSON (or not a plan)."""
    return text


@dataclass
class Request:
    """One request the server got: ``path``, ``headers`` (lower-case names) and the JSON ``body``."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def wire(self) -> str:
        """``openai`` (chat completions, also Cerebras) or ``anthropic`` (messages)."""
        return "anthropic" if self.path.endswith("/messages") else "openai"

    @property
    def system(self) -> str:
        if self.wire == "anthropic":
            return str(self.body.get("system", ""))
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []) if m.get("role") == "system")

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation without the system prompt."""
        return [m for m in self.body.get("messages", []) if m.get("role") != "system"]

    @property
    def last_user_text(self) -> str:
        users = [m for m in self.messages if m.get("role") == "user"]
        return _text(users[-1].get("content")) if users else ""

    @property
    def question(self) -> str:
        """The question of a planner request (the text after the first ``Question:`` of the first user message,
        so a repair round still shows the original question)."""
        users = [m for m in self.messages if m.get("role") == "user"]
        text = _text(users[0].get("content")) if users else ""
        _, found, rest = text.partition("Question:")
        return rest.strip() if found else text.strip()

    @property
    def text(self) -> str:
        """Everything the model was shown: the system prompt and every message."""
        return "\n".join([self.system, *(_text(m.get("content")) for m in self.messages)])


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


class FakeLLM:
    """The server; a context manager. ``base_url`` is ``http://127.0.0.1:<port>/v1``."""

    def __init__(self, responses: list[Any] | Callable[[Request], Any] | None = None, *,
                 api_key: str | None = "test-key", default: Any = None, model: str = "fake-model") -> None:
        self.script: list[Any] = [] if callable(responses) or responses is None else list(responses)
        self.responder = responses if callable(responses) else None
        self.default = default
        self.api_key = api_key
        self.model = model
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that gave up: not our problem
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, *items: Any) -> None:
        """Append answers to the script."""
        with self._lock:
            self.script.extend(items)

    def _next(self, request: Request) -> Any:
        with self._lock:
            self.requests.append(request)
            if self.responder is not None:
                return self.responder(request)
            if self.script:
                return self.script.pop(0)
        return self.default if self.default is not None else Status(500, message="fake LLM: script exhausted")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._send(400, _error("invalid_request_error", "body is not JSON"))
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(self.path, headers, body)
                if self.path not in ("/v1/chat/completions", "/v1/messages"):
                    return self._send(404, _error("not_found_error", f"no route {self.path}"))
                if request.wire == "anthropic" and "anthropic-version" not in headers:
                    return self._send(400, _error("invalid_request_error", "anthropic-version header is required"))
                if server.api_key is not None and _key(request) != server.api_key:
                    with server._lock:
                        server.requests.append(request)
                    message = ("invalid x-api-key" if request.wire == "anthropic"
                               else "Incorrect API key provided")
                    return self._send(401, _error("authentication_error", message))
                item = server._next(request)
                while True:
                    if callable(item) and not isinstance(item, (Status, Slow)):
                        item = item(request)
                    elif isinstance(item, Slow):
                        if server._closing.wait(item.seconds):
                            return None
                        item = item.then
                    else:
                        break
                if isinstance(item, Status):
                    extra = {"Retry-After": str(item.retry_after)} if item.retry_after is not None else None
                    return self._send(item.code, _error("api_error", item.message or f"simulated {item.code}"),
                                      extra)
                return self._send(200, _answer(request, item, server.model))

        return Handler


def _key(request: Request) -> str | None:
    if request.wire == "anthropic":
        return request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else None


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _answer(request: Request, item: Any, model: str) -> dict[str, Any]:
    text = item if isinstance(item, str) else json.dumps(item)
    if request.wire == "anthropic":
        tools = request.body.get("tools") or []
        if tools and not isinstance(item, str):
            block: dict[str, Any] = {"type": "tool_use", "id": "toolu_fake", "name": tools[0]["name"], "input": item}
            stop = "tool_use"
        else:
            block, stop = {"type": "text", "text": text}, "end_turn"
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": request.body.get("model", model),
                "content": [block], "stop_reason": stop, "usage": {"input_tokens": 1, "output_tokens": 1}}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "model": request.body.get("model", model),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
