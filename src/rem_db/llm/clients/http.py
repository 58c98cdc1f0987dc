"""One JSON POST to a chat API with a deadline, bounded retries and errors that say what to fix.

Policy (docs/ask.md, "LLM planners"):

- every attempt has a deadline of ``timeout`` seconds (``P8_LLM_TIMEOUT``, default 30) for the whole answer,
  not only between bytes; a timeout is not retried (it already used the budget);
- 429 is retried (at most 5 times) honouring ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``,
  else with exponential backoff, while the total wait stays within ``max_wait`` (default: the timeout); past
  that it is a clear error;
- 5xx (and 529, "overloaded") is retried ``server_retries`` times with backoff;
- 401/403 name the provider and the key variable; connection failures name the URL; other 4xx carry the
  server's own message.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ...errors import LLMError

#: how many times a 5xx answer is retried
SERVER_RETRIES = 2
#: how many times a 429 answer is retried (besides the cap on the total wait)
RATE_LIMIT_RETRIES = 5
#: first backoff (seconds); doubled after each retry
BACKOFF = 0.5
#: bytes read at most from an answer (a chat answer is a few kB; this stops a runaway server)
MAX_ANSWER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom: ``provider`` for messages, ``key_variable`` to name in auth errors."""

    provider: str
    url: str
    headers: dict[str, str]
    key_variable: str
    timeout: float
    max_wait: float | None = None
    server_retries: int = SERVER_RETRIES
    backoff: float = BACKOFF


def post_json(endpoint: Endpoint, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` as JSON and return the decoded JSON object of a 200 answer, under the policy above."""
    provider, url = endpoint.provider, endpoint.url
    max_wait = endpoint.timeout if endpoint.max_wait is None else endpoint.max_wait
    waited = 0.0
    delay = endpoint.backoff
    server_failures = rate_limits = 0
    while True:
        status, headers, body = _attempt(endpoint, payload)
        if status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                raise LLMError(f"{provider}: {url} answered with invalid JSON: {_excerpt(body)}",
                               provider=provider, kind="server", status=status) from None
            if not isinstance(data, dict):
                raise LLMError(f"{provider}: {url} answered with JSON that is not an object: {_excerpt(body)}",
                               provider=provider, kind="server", status=status)
            return data
        message = f"HTTP {status}: {_server_message(body)}"
        if status in (401, 403):
            raise LLMError(f"{provider}: authentication failed at {url} ({message}); check {endpoint.key_variable}",
                           provider=provider, kind="auth", status=status)
        if status == 429:
            pause = _retry_after(headers)
            pause = delay if pause is None else pause
            rate_limits += 1
            if rate_limits > RATE_LIMIT_RETRIES:
                raise LLMError(f"{provider}: still rate limited by {url} after {RATE_LIMIT_RETRIES} retries "
                               f"({message})", provider=provider, kind="rate_limit", status=status)
            if waited + pause > max_wait:
                raise LLMError(f"{provider}: rate limited by {url} ({message}); waited {waited:g} s, the next wait "
                               f"of {pause:g} s would pass the {max_wait:g} s limit (P8_LLM_TIMEOUT)",
                               provider=provider, kind="rate_limit", status=status)
        elif status >= 500:
            server_failures += 1
            if server_failures > endpoint.server_retries:
                raise LLMError(f"{provider}: {url} failed {server_failures} times ({message})",
                               provider=provider, kind="server", status=status)
            hinted = _retry_after(headers)
            pause = min(max(delay, hinted or 0.0), max(max_wait - waited, 0.0))
        else:
            kind = "config" if status == 404 else "refused"
            hint = " (check the model name and P8_LLM_BASE_URL)" if status == 404 else ""
            raise LLMError(f"{provider}: {url} refused the request ({message}){hint}",
                           provider=provider, kind=kind, status=status)
        time.sleep(pause)
        waited += pause
        delay = min(delay * 2, 8.0)


def _attempt(endpoint: Endpoint, payload: dict[str, Any]) -> tuple[int, httpx.Headers, bytes]:
    """One request; the answer is read in chunks so the deadline covers the whole of it."""
    provider, url, timeout = endpoint.provider, endpoint.url, endpoint.timeout
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client, \
                client.stream("POST", url, json=payload, headers=endpoint.headers) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline passed while reading the answer")
                if size > MAX_ANSWER_BYTES:
                    raise LLMError(f"{provider}: {url} sent more than {MAX_ANSWER_BYTES} bytes",
                                   provider=provider, kind="server", status=response.status_code)
            return response.status_code, response.headers, b"".join(chunks)
    except httpx.TimeoutException:
        raise LLMError(f"{provider}: no answer from {url} within {timeout:g} s (P8_LLM_TIMEOUT)",
                       provider=provider, kind="timeout") from None
    except httpx.ConnectError as exc:
        raise LLMError(f"{provider}: cannot connect to {url} ({_reason(exc)}); is the server running and the URL "
                       f"right (P8_LLM_BASE_URL)?", provider=provider, kind="unreachable") from None
    except httpx.UnsupportedProtocol:
        raise LLMError(f"{provider}: {url} is not an http:// or https:// URL (P8_LLM_BASE_URL)",
                       provider=provider, kind="config") from None
    except httpx.HTTPError as exc:
        raise LLMError(f"{provider}: request to {url} failed ({_reason(exc)})",
                       provider=provider, kind="server") from None


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from ``retry-after-ms`` (OpenAI's) or ``Retry-After`` (seconds or an HTTP date); ``None`` if absent
    or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _server_message(body: bytes) -> str:
    """The error message of an OpenAI- or Anthropic-style error body, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        return _excerpt(body) or "no message"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if data.get("message"):
            return str(data["message"])
    return _excerpt(body) or "no message"


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
