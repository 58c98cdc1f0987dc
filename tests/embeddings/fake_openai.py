"""A small OpenAI-compatible ``/v1/embeddings`` server on 127.0.0.1 for tests (imported as ``fake_openai``).

Vectors are deterministic: a seeded random vector per text, so the same text always gets the same vector
and different texts are nearly orthogonal. ``fail_with`` queues HTTP statuses to answer before succeeding;
``delay`` makes every answer slow (for timeouts).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def vector_for(text: str, dims: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    vec = np.random.default_rng(seed).standard_normal(dims)
    return (vec / np.linalg.norm(vec)).round(6).tolist()


class FakeOpenAI:
    def __init__(self, dims: int = 1536, api_key: str = "test-key") -> None:
        self.dims = dims
        self.api_key = api_key
        self.requests: list[list[str]] = []
        self.fail_with: list[int] = []
        self.retry_after: str | None = None
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                if server.delay:
                    time.sleep(server.delay)
                if self.path != "/v1/embeddings":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(401, {"error": {"message": "Incorrect API key provided"}})
                if server.fail_with:
                    status = server.fail_with.pop(0)
                    headers = {"Retry-After": server.retry_after} if server.retry_after else None
                    return self._send(status, {"error": {"message": f"simulated {status}"}}, headers)
                texts = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
                server.requests.append(texts)
                data = [{"object": "embedding", "index": i, "embedding": vector_for(t, server.dims)}
                        for i, t in reversed(list(enumerate(texts)))]  # out of order on purpose
                return self._send(200, {"object": "list", "data": data, "model": payload.get("model")})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
