"""A stub of the Evolution API (Baileys REST bridge) on 127.0.0.1, for tests.

It speaks the contract of gateways.md §2.2: every request must carry `apikey: <API_KEY>`
(else 401 with Evolution's error envelope); instances live in memory with a state
(`close`, `connecting`, `open`); create, connect (a QR code), connectionState, logout,
delete and webhook/set answer the documented bodies; sendText / sendMedia /
sendWhatsAppAudio / sendReaction answer the documented message object with a fresh
`BAE5…` id and `status: "PENDING"`; whatsappNumbers says numbers starting with "000"
do not exist; getBase64FromMediaMessage serves media added with `add_media`;
findContacts (200) lists the contacts added with `add_contact` as Evolution's
`fetchContacts` does (the stored row plus `isGroup`, `isSaved` and `type`);
findMessages and findChats search the messages added with `add_message` as Evolution
2.3's `fetchMessages` / `fetchChats` do (`where.key.remoteJid`, a `messageTimestamp`
window applied only with both `gte` and `lte` as dates, newest first, `page`/`offset`
paging with `{messages: {total, pages, currentPage, records}}`). Every
request is recorded (and handed to `on_request` when set), and `fail_next()` makes the
next request fail (500, or 400 with a documented error body).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import Recorded, StubServer

API_KEY = "stub-evolution-key"
#: The raw QR string the connect route answers (`code`), as Baileys produces them.
QR_CODE = "2@y8eK+bjtEjUWy9/FOMstubQR,abcdef==,ghijk==,lmnop=="
QR_BASE64 = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYAAAAAMAASsJTYQAAAAASUVORK5CYII="
)

#: Documented error bodies (gateways.md §2.2).
VALIDATION_ERROR = {
    "status": 400,
    "error": "Bad Request",
    "response": {"message": ["caption is not of a type(s) string"]},
}
CONNECTION_CLOSED = {
    "status": 400,
    "error": "Bad Request",
    "response": {"message": ["Connection Closed"]},
}


def not_found(instance: str) -> dict[str, Any]:
    """The documented 404 body for an unknown instance."""
    return {
        "status": 404,
        "error": "Not Found",
        "response": {"message": [f'The "{instance}" instance does not exist']},
    }


class EvolutionStub(StubServer[Recorded]):
    """A threaded HTTP server answering as Evolution API 2.3 does (see the module doc)."""

    methods = ("GET", "POST", "DELETE")

    def __init__(self) -> None:
        super().__init__()
        #: instance name → state (close, connecting, open).
        self.instances: dict[str, str] = {}
        #: instance name → the last webhook config set.
        self.webhooks: dict[str, dict[str, Any]] = {}
        #: message id → (base64, mimetype, fileName).
        self.media: dict[str, tuple[str, str, str]] = {}
        #: instance name → its stored contacts (Evolution's Contact rows).
        self.contacts: dict[str, list[dict[str, Any]]] = {}
        #: instance name → its stored messages (Evolution's Message rows).
        self.messages: dict[str, list[dict[str, Any]]] = {}
        #: Called with each recorded request before it is answered (tests observe with it).
        self.on_request: Callable[[Recorded], None] | None = None
        self._fail: list[tuple[int, Any]] = []

    def fail_next(self, status: int = 500, body: Any = None) -> None:
        """Make the next request answer `status` with `body` (default: a 500 envelope)."""
        if body is None:
            body = {
                "status": status,
                "error": "Internal Server Error",
                "response": {"message": ["stub failure"]},
            }
        with self._lock:
            self._fail.append((status, body))

    def add_media(self, message_id: str, b64: str, mimetype: str, file_name: str) -> None:
        """Make getBase64FromMediaMessage serve this media for `message_id`."""
        self.media[message_id] = (b64, mimetype, file_name)

    def add_contact(
        self,
        instance: str,
        remote_jid: str,
        push_name: str | None = None,
        profile_pic_url: str | None = None,
    ) -> None:
        """Store a contact of `instance` as Evolution's Contact table holds it."""
        self.contacts.setdefault(instance, []).append(
            {
                "id": "cm" + uuid.uuid4().hex[:23],
                "remoteJid": remote_jid,
                "pushName": push_name,
                "profilePicUrl": profile_pic_url,
                "createdAt": "2025-09-19T03:02:10.442Z",
                "updatedAt": "2025-09-21T00:37:05.814Z",
                "instanceId": f"{instance}-id",
            }
        )

    def add_message(self, instance: str, data: dict[str, Any]) -> None:
        """Store a message of `instance` as Evolution's Message table keeps a
        `messages.upsert` item (its `key`, `message`, `messageTimestamp`...)."""
        row = {"id": "cm" + uuid.uuid4().hex[:23], **data, "instanceId": f"{instance}-id"}
        self.messages.setdefault(instance, []).append(row)

    # -- HTTP --

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record the request, then answer it (or the queued failure)."""
        raw = self._read_body(h)
        body = json.loads(raw) if raw else None
        path = h.path.split("?", 1)[0]
        recorded = Recorded(method, path, dict(h.headers.items()), body)
        self.requests.append(recorded)
        if self.on_request is not None:
            self.on_request(recorded)
        if h.headers.get("apikey") != API_KEY:
            self._reply(
                h,
                401,
                {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}},
            )
            return
        with self._lock:
            failure = self._fail.pop(0) if self._fail else None
        if failure is not None:
            self._reply(h, *failure)
            return
        status, answer = self._route(method, path, body or {})
        self._reply(h, status, answer)

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The documented answer of one route."""
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/instance/create":
            name = body["instanceName"]
            self.instances[name] = "connecting" if body.get("qrcode") else "close"
            return 201, {
                "instance": {
                    "instanceName": name,
                    "instanceId": str(uuid.uuid4()),
                    "integration": body.get("integration"),
                    "status": self.instances[name],
                },
                "hash": uuid.uuid4().hex.upper(),
                "settings": {"reject_call": False, "groups_ignore": True},
            }
        if len(parts) != 3:
            return 404, {"status": 404, "error": "Not Found", "response": {"message": [path]}}
        group, action, instance = parts
        if instance not in self.instances:
            return 404, not_found(instance)
        state = self.instances[instance]
        if (group, action) == ("instance", "connectionState"):
            return 200, {"instance": {"instanceName": instance, "state": state}}
        if (group, action) == ("instance", "connect"):
            if state == "open":
                return 200, {"instance": {"instanceName": instance, "state": "open"}}
            self.instances[instance] = "connecting"
            return 200, {
                "pairingCode": "WZYEH1YY",
                "code": QR_CODE,
                "base64": QR_BASE64,
                "count": 1,
            }
        if (group, action) == ("instance", "logout"):
            if state == "close":
                return 400, {
                    "status": 400,
                    "error": "Bad Request",
                    "response": {"message": [f'The "{instance}" instance is not connected']},
                }
            self.instances[instance] = "close"
            msg = "Instance logged out"
            return 200, {"status": "SUCCESS", "error": False, "response": {"message": msg}}
        if (group, action) == ("instance", "delete"):
            del self.instances[instance]
            msg = "Instance deleted"
            return 200, {"status": "SUCCESS", "error": False, "response": {"message": msg}}
        if (group, action) == ("webhook", "set"):
            hook = body.get("webhook") or {}
            if not hook.get("url") or "enabled" not in hook:
                return 400, {
                    "status": 400,
                    "error": "Bad Request",
                    "response": {"message": ["webhook.url is required"]},
                }
            self.webhooks[instance] = hook
            return 201, {"instanceName": instance, "webhook": hook}
        if group == "message":
            return self._send(action, body)
        if (group, action) == ("chat", "markMessageAsRead"):
            return 201, {"message": "Read messages", "read": "success"}
        if (group, action) == ("chat", "deleteMessageForEveryone"):
            return 201, {"key": {"id": body.get("id")}, "status": "PENDING"}
        if (group, action) == ("chat", "whatsappNumbers"):
            return 201, [
                {
                    "exists": not n.startswith("000"),
                    "jid": f"{n}@s.whatsapp.net",
                    "number": n,
                }
                for n in body.get("numbers") or []
            ]
        if (group, action) == ("chat", "findContacts"):
            return self._find_contacts(instance, body)
        if (group, action) == ("chat", "findMessages"):
            return self._find_messages(instance, body)
        if (group, action) == ("chat", "findChats"):
            return self._find_chats(instance, body)
        if (group, action) == ("chat", "getBase64FromMediaMessage"):
            msg_id = ((body.get("message") or {}).get("key") or {}).get("id")
            if msg_id not in self.media:
                return 400, {
                    "status": 400,
                    "error": "Bad Request",
                    "response": {"message": ["Message not found"]},
                }
            b64, mimetype, file_name = self.media[msg_id]
            return 201, {
                "mediaType": mimetype.split("/", 1)[0],
                "fileName": file_name,
                "caption": None,
                "size": {"fileLength": len(b64) * 3 // 4},
                "mimetype": mimetype,
                "base64": b64,
            }
        return 404, {"status": 404, "error": "Not Found", "response": {"message": [path]}}

    def _find_contacts(self, instance: str, body: dict[str, Any]) -> tuple[int, Any]:
        """`fetchContacts`: every contact, or those of `where.remoteJid`, typed (200)."""
        where = body.get("where")
        if where is not None and not isinstance(where, dict):
            return 400, {
                "status": 400,
                "error": "Bad Request",
                "response": {"message": ["where is not of a type(s) object"]},
            }
        wanted = (where or {}).get("remoteJid")
        if wanted and "@" not in wanted:
            wanted = f"{wanted}@s.whatsapp.net"
        answer = []
        for row in self.contacts.get(instance, []):
            if wanted and row["remoteJid"] != wanted:
                continue
            is_group = row["remoteJid"].endswith("@g.us")
            is_saved = bool(row["pushName"]) or bool(row["profilePicUrl"])
            kind = "group" if is_group else "contact" if is_saved else "group_member"
            answer.append({**row, "isGroup": is_group, "isSaved": is_saved, "type": kind})
        return 200, answer

    @staticmethod
    def _window(where: dict[str, Any]) -> tuple[int, int] | None:
        """`messageTimestamp: {gte, lte}` as seconds; only with both ends (as Evolution)."""
        stamp = where.get("messageTimestamp") or {}
        if not (isinstance(stamp, dict) and stamp.get("gte") and stamp.get("lte")):
            return None

        def seconds(value: str) -> int:
            return math.floor(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())

        return seconds(stamp["gte"]), seconds(stamp["lte"])

    def _matching(self, instance: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        """The instance's messages matching `where`, newest first."""
        window = self._window(where)
        jid = ((where.get("key") or {}).get("remoteJid")) or None
        rows = [
            row
            for row in self.messages.get(instance, [])
            if (jid is None or row["key"].get("remoteJid") == jid)
            and (window is None or window[0] <= int(row["messageTimestamp"]) <= window[1])
        ]
        return sorted(rows, key=lambda row: int(row["messageTimestamp"]), reverse=True)

    def _find_messages(self, instance: str, body: dict[str, Any]) -> tuple[int, Any]:
        """`fetchMessages`: the page of matching records (201, as Evolution's POST)."""
        rows = self._matching(instance, body.get("where") or {})
        offset = int(body.get("offset") or 50)
        page = int(body.get("page") or 1)
        start = offset * (0 if page == 1 else page - 1)
        records = [{**row, "MessageUpdate": []} for row in rows[start : start + offset]]
        return 201, {
            "messages": {
                "total": len(rows),
                "pages": math.ceil(len(rows) / offset),
                "currentPage": page,
                "records": records,
            }
        }

    def _find_chats(self, instance: str, body: dict[str, Any]) -> tuple[int, Any]:
        """`fetchChats`: one entry per chat with a matching message, its last one (201)."""
        chats: dict[str, dict[str, Any]] = {}
        for row in self._matching(instance, body.get("where") or {}):
            jid = row["key"]["remoteJid"]
            if jid not in chats:
                chats[jid] = {
                    "id": None,
                    "remoteJid": jid,
                    "pushName": row.get("pushName"),
                    "profilePicUrl": None,
                    "updatedAt": datetime.fromtimestamp(int(row["messageTimestamp"])).isoformat(),
                    "lastMessage": {k: v for k, v in row.items() if k != "MessageUpdate"},
                    "unreadCount": 0,
                    "isSaved": False,
                }
        return 201, list(chats.values())

    def _send(self, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The documented message object of a send (201, status PENDING)."""
        number = str(body.get("number") or (body.get("key") or {}).get("remoteJid") or "")
        if number.startswith("000"):
            # Evolution's onWhatsApp check: BadRequestException(isWA).
            return 400, {
                "status": 400,
                "error": "Bad Request",
                "response": {
                    "message": [
                        {"exists": False, "jid": f"{number}@s.whatsapp.net", "number": number}
                    ]
                },
            }
        jid = number if "@" in number else f"{number}@s.whatsapp.net"
        message: dict[str, Any]
        if action == "sendText":
            message = {"extendedTextMessage": {"text": body.get("text")}}
        elif action == "sendReaction":
            message = {"reactionMessage": {"key": body.get("key"), "text": body.get("reaction")}}
        elif action == "sendWhatsAppAudio":
            message = {"audioMessage": {"mimetype": "audio/ogg; codecs=opus", "ptt": True}}
        elif action == "sendMedia":
            kind = f"{body.get('mediatype')}Message"
            message = {kind: {"mimetype": body.get("mimetype"), "caption": body.get("caption")}}
        else:
            return 404, {"status": 404, "error": "Not Found", "response": {"message": [action]}}
        return 201, {
            "key": {"remoteJid": jid, "fromMe": True, "id": "BAE5" + uuid.uuid4().hex[:12].upper()},
            "message": message,
            "messageTimestamp": "1717689097",
            "status": "PENDING",
        }


@pytest.fixture
def evolution_stub() -> Iterator[EvolutionStub]:
    """A running Evolution API stub, stopped after the test."""
    stub = EvolutionStub().start()
    yield stub
    stub.stop()
