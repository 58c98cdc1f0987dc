"""``openai:<model>``: any OpenAI-compatible ``/embeddings`` endpoint over HTTP (httpx).

Key from ``P8_OPENAI_API_KEY`` or ``OPENAI_API_KEY``; base URL from ``P8_OPENAI_BASE_URL`` (default
``https://api.openai.com/v1``), so local OpenAI-compatible servers work. 429 and 5xx answers are retried with
exponential backoff (honouring ``Retry-After``); 401/403 and other 4xx fail at once with the server's message.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from ..config import Settings
from ..errors import EmbeddingError
from .interface import normalise
from .registry import register_provider

KNOWN_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536,
                    "ada-002": 1536}
DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRIES = 5


class OpenAIProvider:
    """Embeddings from an OpenAI-compatible HTTP API; one request per batch."""

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 60.0, retries: int = RETRIES, backoff: float = 0.5, *,
                 settings: Settings | None = None) -> None:
        """``api_key`` / ``base_url`` default to the settings' (``P8_OPENAI_API_KEY`` or ``OPENAI_API_KEY``,
        ``P8_OPENAI_BASE_URL``); ``settings`` default to ``Settings.from_env()`` when one of them is needed."""
        if settings is None and (api_key is None or base_url is None):
            settings = Settings.from_env()
        self.model = "text-embedding-ada-002" if model == "ada-002" else model
        self.spec = f"openai:{model}"
        self.api_key = api_key or (settings.openai_api_key if settings is not None else None)
        self.base_url = (base_url or (settings.openai_base_url if settings is not None else None)
                         or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._dimensions = KNOWN_DIMENSIONS.get(self.model)

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self._dimensions = int(self.embed_batch(["dimension probe"]).shape[1])
        return self._dimensions

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        if not self.api_key:
            raise EmbeddingError(f"{self.spec}: no API key (set P8_OPENAI_API_KEY or OPENAI_API_KEY)")
        data = self._post({"model": self.model, "input": texts})
        try:
            rows = sorted(data["data"], key=lambda item: item["index"])
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"{self.spec}: malformed response from {self.base_url}: {exc}") from None
        if vectors.shape[0] != len(texts):
            raise EmbeddingError(f"{self.spec}: asked for {len(texts)} embeddings, got {vectors.shape[0]}")
        if self._dimensions is not None and vectors.shape[1] != self._dimensions:
            raise EmbeddingError(f"{self.spec}: expected {self._dimensions}-d vectors, got {vectors.shape[1]}-d")
        self._dimensions = vectors.shape[1]
        return normalise(vectors)

    def _post(self, payload: dict[str, Any]) -> Any:
        import httpx

        url = f"{self.base_url}/embeddings"
        headers = {"Authorization": f"Bearer {self.api_key}"}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = httpx.post(url, json=payload, headers=headers, timeout=self.timeout)
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g} s"
            except httpx.HTTPError as exc:
                problem = f"request failed: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise EmbeddingError(f"{self.spec}: {url} answered with invalid JSON") from None
                problem = f"HTTP {response.status_code}: {_message(response)}"
                if response.status_code in (401, 403):
                    raise EmbeddingError(f"{self.spec}: authentication failed at {url} ({problem}); "
                                         f"check P8_OPENAI_API_KEY / OPENAI_API_KEY") from None
                if response.status_code != 429 and response.status_code < 500:
                    raise EmbeddingError(f"{self.spec}: {url} refused the request ({problem})")
                retry_after = response.headers.get("retry-after")
                if retry_after:
                    with contextlib.suppress(ValueError):
                        delay = max(delay, min(float(retry_after), 60.0))
            if attempt == self.retries:
                raise EmbeddingError(f"{self.spec}: {url} failed after {self.retries + 1} attempts ({problem})")
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")


def _message(response: Any) -> str:
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    except ValueError:
        pass
    return str(response.text[:200] or response.reason_phrase)


def create(model: str, settings: Settings) -> OpenAIProvider:
    """The ``openai:<model>`` provider for ``settings`` (the registry's factory)."""
    return OpenAIProvider(model, settings=settings)


register_provider("openai", create, uses=("openai_api_key", "openai_base_url"))
