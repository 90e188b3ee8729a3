"""A stub OpenAI chat-completions server on 127.0.0.1, for tests.

It answers as the OpenAI API reference documents "Create chat completion":
  POST /v1/chat/completions  Authorization: Bearer <key>  {model, messages, ...}
  -> 200 {id, object: "chat.completion", created, model,
          choices: [{index: 0, message: {role: "assistant", content}, finish_reason: "stop"}],
          usage: {prompt_tokens, completion_tokens, total_tokens}}
A missing or wrong key answers 401 with OpenAI's error body
{"error": {"message", "type": "invalid_request_error", "code": "invalid_api_key"}}.

`replies` is the queue of contents answered in order (`reply(text)` appends one; when it
is empty the stub answers "Resposta automática"). `usage` is the usage reported with each
answer. `fail_next(n, status)` makes the next n requests fail with OpenAI's error body.
Every request is recorded (method, path, headers, JSON body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import Recorded, StubServer

API_KEY = "sk-test-0123456789abcdefSECRET"
DEFAULT_REPLY = "Resposta automática"


class OpenAIStub(StubServer[Recorded]):
    """A threaded HTTP server answering as the chat-completions API does (see the module doc).

    Its `url` is the base URL (".../v1") to set as a prompt's baseUrl or OPENAI_BASE_URL.
    """

    methods = ("POST",)
    url_path = "/v1"

    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.replies: list[str] = []
        self.usage = {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
        self._fail: list[int] = []
        self._count = 0
        self._reply_lock = threading.Lock()

    def reply(self, *contents: str) -> None:
        """Queue the contents of the next answers, in order."""
        with self._reply_lock:
            self.replies.extend(contents)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Make the next `n` requests answer `status` with OpenAI's error body."""
        with self._lock:
            self._fail.extend([status] * n)

    def completions(self) -> list[Recorded]:
        """The chat-completions requests received, oldest first."""
        return self.calls("/chat/completions")

    # -- HTTP --

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        raw = self._read_body(h)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(Recorded(method, path, dict(h.headers.items()), body))
        if path != "/v1/chat/completions":
            self._reply(h, 404, _error(f"Invalid URL (POST {path})", "invalid_request_error"))
            return
        if h.headers.get("Authorization") != f"Bearer {self.api_key}":
            given = (h.headers.get("Authorization") or "").removeprefix("Bearer ")
            shown = f"{given[:3]}***{given[-4:]}" if len(given) > 8 else "***"
            message = (
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            self._reply(h, 401, _error(message, "invalid_request_error", "invalid_api_key"))
            return
        with self._lock:
            failure = self._fail.pop(0) if self._fail else None
        if failure is not None:
            self._reply(h, failure, _error("The server had an error.", "server_error"))
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._reply(
                h, 400, _error("'messages' is a required property", "invalid_request_error")
            )
            return
        self._reply(h, 200, self._completion(body))

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._reply_lock:
            content = self.replies.pop(0) if self.replies else DEFAULT_REPLY
        with self._lock:
            self._count += 1
            number = self._count
        return {
            "id": f"chatcmpl-stub{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": dict(self.usage),
        }


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A running chat-completions stub, stopped after the test."""
    stub = OpenAIStub().start()
    yield stub
    stub.stop()
