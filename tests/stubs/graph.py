"""A stub of Meta's Graph API (WhatsApp Cloud API) on 127.0.0.1, for tests.

It speaks the contract of gateways.md §1: `POST /{pnid}/messages` answers Meta's
success body with a fresh wamid (or `{"success": true}` to a read receipt),
`POST /{pnid}/media` stores the upload and answers its id, `GET /{media-id}` answers
the retrieve-URL body, `GET /files/<id>` serves the bytes only with the bearer token,
and `GET /{pnid}` answers the phone-number node. Every request is recorded, and
`fail_next()` makes the next request answer a documented Graph error body.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import Recorded as BaseRecorded
from tests.stubs.base import StubServer

TOKEN = "stub-access-token"

#: Documented error bodies (gateways.md §1.3) by code, with the HTTP status Meta uses.
ERRORS: dict[int, tuple[int, dict[str, Any]]] = {
    131056: (
        400,
        {
            "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "type": "OAuthException",
            "code": 131056,
            "error_subcode": 2494071,
            "fbtrace_id": "A4O5a8RAgePwbcGSu",
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because there were too many messages sent "
                "from this phone number to the same phone number in a short period of time.",
            },
        },
    ),
    130429: (400, {"message": "(#130429) Rate limit hit", "code": 130429}),
    190: (
        401,
        {
            "message": "Error validating access token: Session has expired on Friday, "
            "26-Apr-24 06:00:00 PDT. The current time is Sunday, 28-Apr-24 03:40:10 PDT.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "fbtrace_id": "ACEyrTehk6IAd0lm05Ixogh",
        },
    ),
    131026: (
        400,
        {
            "message": "(#131026) Message undeliverable",
            "type": "OAuthException",
            "code": 131026,
            "error_data": {"messaging_product": "whatsapp", "details": "Message undeliverable"},
            "fbtrace_id": "AbCdEf",
        },
    ),
}


@dataclass
class Recorded(BaseRecorded):
    """One request the stub received (with the form and files of a multipart upload)."""

    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)


class GraphStub(StubServer[Recorded]):
    """The stub server: start(), `url` (the connection's `baseUrl`), `requests`,
    fail_next(), stop()."""

    def __init__(self, phone_number_id: str = "1122334455667") -> None:
        super().__init__()
        self.phone_number_id = phone_number_id
        self.media: dict[str, tuple[str, bytes]] = {}
        #: When set, media lookups answer this as the download URL (a hostile base URL).
        self.media_url_override: str | None = None
        self._fail: list[tuple[int, dict[str, Any], dict[str, str]]] = []

    def fail_next(
        self, code: int, *, status: int | None = None, retry_after: str | None = None
    ) -> None:
        """Answer the next request with the documented error body of `code`."""
        default_status, body = ERRORS.get(code, (400, {"message": f"error {code}", "code": code}))
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._lock:
            self._fail.append((status or default_status, {"error": body}, headers))

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Make a media id retrievable, as an inbound webhook's media would be."""
        with self._lock:
            self.media[media_id] = (mime_type, data)

    def sent(self) -> list[dict[str, Any]]:
        """The JSON bodies posted to /{pnid}/messages, oldest first."""
        return [
            r.json for r in self.requests if r.method == "POST" and r.path.endswith("/messages")
        ]

    # -- HTTP --

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record the request, then answer it by route."""
        raw = self._read_body(h)
        rec = Recorded(method=method, path=h.path, headers=dict(h.headers.items()))
        ctype = h.headers.get("Content-Type", "")
        if ctype.startswith("application/json") and raw:
            rec.json = json.loads(raw)
        elif ctype.startswith("multipart/form-data"):
            rec.form, rec.files = _multipart(ctype, raw)
        with self._lock:
            self.requests.append(rec)
            fail = self._fail.pop(0) if self._fail else None
        if fail is not None:
            self._reply(h, fail[0], fail[1], fail[2])
            return
        if h.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(h, 401, {"error": ERRORS[190][1]})
            return
        path = h.path.split("?", 1)[0].strip("/")
        parts = path.split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            self._file(h, parts[1])
        elif method == "POST" and parts[-1] == "messages":
            self._message(h, rec.json or {})
        elif method == "POST" and parts[-1] == "media":
            self._upload(h, rec)
        elif method == "GET" and len(parts) == 1 and parts[0] == self.phone_number_id:
            body = {"id": self.phone_number_id, "display_phone_number": "+1 555 0100"}
            self._reply(h, 200, body)
        elif method == "GET" and len(parts) == 1 and parts[0] in self.media:
            mime, data = self.media[parts[0]]
            self._reply(
                h,
                200,
                {
                    "url": self.media_url_override or f"{self.url}/files/{parts[0]}",
                    "mime_type": mime,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": str(len(data)),
                    "id": parts[0],
                    "messaging_product": "whatsapp",
                },
            )
        else:
            self._reply(
                h, 404, {"error": {"message": "Unsupported request", "code": 100, "type": "X"}}
            )

    def _message(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        """A send answers Meta's success body; a read receipt answers success."""
        if body.get("status") == "read":
            self._reply(h, 200, {"success": True})
            return
        to = body.get("to", "")
        self._reply(
            h,
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}],
            },
        )

    def _upload(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        """Keep the uploaded file under a fresh media id."""
        if "file" not in rec.files or rec.form.get("messaging_product") != "whatsapp":
            self._reply(h, 400, {"error": {"message": "missing file", "code": 100}})
            return
        _, mime, data = rec.files["file"]
        media_id = str(uuid.uuid4().int)[:16]
        self.add_media(media_id, data, mime)
        self._reply(h, 200, {"id": media_id})

    def _file(self, h: BaseHTTPRequestHandler, media_id: str) -> None:
        """The bytes of a media (the bearer was checked before)."""
        if media_id not in self.media:
            self._reply(h, 404, {"error": {"message": "not found", "code": 100}})
            return
        mime, data = self.media[media_id]
        h.send_response(200)
        h.send_header("Content-Type", mime)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def _multipart(ctype: str, raw: bytes) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """Split a multipart/form-data body into fields and files (name -> filename, type, bytes)."""
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    form: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, part.get_content_type(), payload)
        else:
            form[name] = payload.decode()
    return form, files


@pytest.fixture(name="graph_stub")
def graph_stub_fixture() -> Iterator[GraphStub]:
    """A running Graph API stub, stopped after the test (import this to use `graph_stub`)."""
    stub = GraphStub().start()
    yield stub
    stub.stop()
