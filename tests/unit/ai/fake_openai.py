"""A small OpenAI-compatible chat-completions server on loopback, for the real `openai` client.

It speaks the wire protocol the client expects (``POST /v1/chat/completions`` with a bearer key,
``chat.completion`` objects, OpenAI-shaped error bodies, ``retry-after-ms`` on 429) and plays a
script of behaviours, one per request, so tests can stage timeouts and rate limits.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-halo"


@dataclass
class Step:
    """What the server does for one request."""

    content: str | None = None  # the assistant message (JSON text), for status 200
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeOpenAI:
    url: str
    script: deque[Step] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def then(self, *steps: Step) -> FakeOpenAI:
        self.script.extend(steps)
        return self


def _error(status: int) -> dict[str, Any]:
    kinds = {
        401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
        429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
        500: ("The server had an error.", "server_error", None),
    }
    message, kind, code = kinds.get(status, ("Error.", "invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up already (the timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if self.path != "/v1/chat/completions":
                self._send(404, _error(404), {})
                return
            if self.headers.get("authorization") != f"Bearer {API_KEY}":
                self._send(401, _error(401), {})
                return
            state.requests.append(body)
            step = state.script.popleft() if state.script else Step(content="{}")
            time.sleep(step.delay)
            if step.status != 200:
                # Short waits keep retry tests fast; the client honours retry-after-ms.
                extra = {"retry-after-ms": "20"} if step.status in (429, 500, 503) else {}
                self._send(step.status, _error(step.status), extra)
                return
            completion = {
                "id": f"chatcmpl-{len(state.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": step.content},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
            self._send(200, completion, {})

    return Handler


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    """Serve on 127.0.0.1 at a free port for the duration of the block."""
    state = FakeOpenAI(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
