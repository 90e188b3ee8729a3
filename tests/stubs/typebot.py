"""A stub Typebot server (chat API v1) on 127.0.0.1, for tests.

It answers the documented shapes (docs.typebot.io API reference, "Start chat" and
"Continue chat"):
  POST /api/v1/typebots/<publicId>/startChat  -> {sessionId, typebot, messages, input}
  POST /api/v1/sessions/<sessionId>/continueChat {message} -> {messages, input?}
Unknown typebots and sessions answer 404 `{"message", "code": "NOT_FOUND"}`.

The scripted flow of SLUG: startChat greets the prefilled pushName in bold and offers a
choice input (Vendas / Suporte). continueChat answers by the message text:
  "vendas"    a rich-text bubble (bold, italic, underline, link) and a text input;
  "foto"      an image bubble whose URL this stub serves (GET /media/pic.png);
  "atendente" a text bubble, then `trigger_text` (default `#{"stopBot": true}`);
  "silencio"  no messages at all;
  other text  no messages and the same choice input again (an invalid answer).
`script[text] = [...]` replaces the messages answered for a text; `fail_next(n, status)`
makes the next n requests fail. Every request is recorded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import StubServer

SLUG = "atendimento-bot"
#: A 1x1 PNG served at /media/pic.png.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYAAAAAMAASsJTYQAAAAASUVORK5CYII="
)
CHOICES = ("Vendas", "Suporte")


def text_bubble(*paragraphs: list[dict[str, Any]] | str) -> dict[str, Any]:
    """A text bubble; each paragraph is a plain string or a list of Slate leaves/links."""
    rich = []
    for para in paragraphs:
        children = [{"text": para}] if isinstance(para, str) else para
        rich.append({"type": "p", "children": children})
    return {"id": "b-text", "type": "text", "content": {"type": "richText", "richText": rich}}


def choice_input() -> dict[str, Any]:
    """The documented "choice input" block with CHOICES as its items."""
    return {
        "id": "in-choice",
        "type": "choice input",
        "items": [{"id": f"item-{i}", "content": c} for i, c in enumerate(CHOICES)],
        "options": {"isMultipleChoice": False},
    }


@dataclass
class Recorded:
    """One request the stub received."""

    method: str
    path: str
    json: Any = None


class TypebotStub(StubServer[Recorded]):
    """A threaded HTTP server answering as the Typebot chat API does (see the module doc).

    Its `url` is the base URL to set as an integration's urlN8N.
    """

    def __init__(self) -> None:
        super().__init__()
        #: sessionId -> the prefilled variables it was started with.
        self.sessions: dict[str, dict[str, Any]] = {}
        #: Message text (lower case) -> the messages answered for it (overrides the flow).
        self.script: dict[str, list[dict[str, Any]]] = {}
        self.trigger_text = '#{"stopBot": true}'
        #: GET path -> the URL it redirects to (302), as a CDN link would.
        self.redirects: dict[str, str] = {}
        self._fail: list[int] = []
        self._count = 0

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Make the next `n` requests answer `status`."""
        with self._lock:
            self._fail.extend([status] * n)

    # -- HTTP --

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        raw = self._read_body(h)
        body = json.loads(raw) if raw else None
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(Recorded(method, path, body))
            failure = self._fail.pop(0) if self._fail else None
        if failure is not None:
            self._reply(h, failure, {"message": "stub failure", "code": "INTERNAL_SERVER_ERROR"})
            return
        if method == "GET" and path in self.redirects:
            h.send_response(302)
            h.send_header("Location", self.redirects[path])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if method == "GET" and path == "/media/pic.png":
            h.send_response(200)
            h.send_header("Content-Type", "image/png")
            h.send_header("Content-Length", str(len(PNG)))
            h.end_headers()
            h.wfile.write(PNG)
            return
        status, answer = self._route(method, path, body or {})
        self._reply(h, status, answer)

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        not_found = {"message": "Not found", "code": "NOT_FOUND"}
        if method != "POST" or len(parts) != 5 or parts[:2] != ["api", "v1"]:
            return 404, not_found
        if parts[2] == "typebots" and parts[4] == "startChat":
            if parts[3] != SLUG:
                return 404, {"message": "Typebot not found", "code": "NOT_FOUND"}
            return 200, self._start(body)
        if parts[2] == "sessions" and parts[4] == "continueChat":
            if parts[3] not in self.sessions:
                return 404, {"message": "Session not found.", "code": "NOT_FOUND"}
            return 200, self._continue(parts[3], body)
        return 404, not_found

    def _start(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._count += 1
            session_id = f"sess-{self._count}"
        variables = body.get("prefilledVariables") or {}
        self.sessions[session_id] = variables
        greeting = text_bubble(
            [{"text": "Olá, "}, {"text": str(variables.get("pushName") or ""), "bold": True}],
            "Escolha uma opção:",
        )
        return {
            "sessionId": session_id,
            "typebot": {"id": "tb-1", "theme": {}, "settings": {}},
            "messages": [greeting],
            "input": choice_input(),
            "resultId": f"res-{self._count}",
        }

    def _continue(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else message
        key = str(text or "").strip().lower()
        if key in self.script:
            return {"messages": self.script[key]}
        if key == "vendas":
            rich = text_bubble(
                [
                    {"text": "Ótimo "},
                    {"text": "escolha ", "bold": True},
                    {"text": "mesmo", "italic": True},
                    {"text": "!"},
                ],
                [
                    {"text": "Veja "},
                    {"text": "aqui", "underline": True},
                    {"text": ": "},
                    {"type": "a", "url": "https://example.com/p", "children": [{"text": "site"}]},
                ],
            )
            return {
                "messages": [rich],
                "input": {"id": "in-text", "type": "text input", "options": {}},
            }
        if key == "foto":
            image = {
                "id": "b-img",
                "type": "image",
                "content": {"url": f"{self.url}/media/pic.png"},
            }
            return {"messages": [image]}
        if key == "atendente":
            return {"messages": [text_bubble("Transferindo..."), text_bubble(self.trigger_text)]}
        if key == "silencio":
            return {"messages": []}
        return {"messages": [], "input": choice_input()}


@pytest.fixture
def typebot_stub() -> Iterator[TypebotStub]:
    """A running Typebot stub, stopped after the test."""
    stub = TypebotStub().start()
    yield stub
    stub.stop()
