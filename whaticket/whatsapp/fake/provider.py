"""The fake provider itself: sends recorded in the store, failures on demand, its webhook
format, and the acks it promises after each send."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    Gateway,
    GatewayError,
    GatewayEvent,
    InboundMessage,
    Media,
    PhoneContact,
    RejectedEvent,
    SendResult,
    SessionNotConnectedError,
    SessionState,
    media_type,
)
from whaticket.whatsapp.bounds import bound_events, ident, text
from whaticket.whatsapp.fake.store import (
    FakeStore,
    digits,
    lookup_ref,
    read_contacts,
    read_outbox,
    record,
)

#: Ack names accepted by the status callback and FAKE_GATEWAY_AUTO_ACKS.
STATUS_ACKS: dict[str, int] = {
    "sent": ACK_SENT,
    "delivered": ACK_DELIVERED,
    "read": ACK_READ,
    "played": ACK_PLAYED,
    "failed": ACK_ERROR,
}
#: The statuses the `/fake-gateway/<id>/status` endpoint takes.
STATUSES = ("sent", "delivered", "read", "failed")
#: Prefix of a number that every send refuses.
REJECTED_PREFIX = "000"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SavedMedia:
    """Where a sent file was kept (`url` opens it) and the type it was stored as."""

    url: str
    mimetype: str


@dataclass(frozen=True)
class FakeSettings:
    """One fake connection: its id (the store's key), its status and the store."""

    connection_id: int
    #: The row's status: anything but CONNECTED makes sends fail (retryable).
    status: str = "CONNECTED"
    store: FakeStore = field(default_factory=FakeStore)
    #: The acks promised after each send, in order (FAKE_GATEWAY_AUTO_ACKS), and the
    #: seconds between them (FAKE_GATEWAY_ACK_DELAY).
    auto_acks: tuple[int, ...] = (ACK_DELIVERED, ACK_READ)
    ack_delay: float = 1.0
    #: Keeps a sent file and answers its URL, or raises GatewayError for a file WhatsApp
    #: would refuse too; None records media without a URL.
    media_sink: Callable[[Media], SavedMedia] | None = field(default=None, compare=False)
    #: The time entries and injected messages are stamped with.
    clock: Callable[[], datetime] = field(default=_utcnow, compare=False)


def auto_ack_steps(names: str | None) -> tuple[int, ...]:
    """The ack values a comma-separated list of status names means (unknown names skipped)."""
    steps = [STATUS_ACKS.get(part.strip().lower()) for part in (names or "").split(",")]
    return tuple(ack for ack in steps if ack is not None)


def new_inbound_id() -> str:
    """A fresh provider id for an injected inbound message."""
    return f"FAKEIN-{uuid.uuid4().hex}"


def inbound_event(
    sender: str,
    *,
    name: str | None = None,
    body: str = "",
    provider_id: str | None = None,
    from_me: bool = False,
    is_group: bool = False,
    group_name: str | None = None,
    participant: str | None = None,
    media: Media | None = None,
    raw: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> InboundMessage:
    """Build the normalised inbound event of a message injected into the fake."""
    return InboundMessage(
        provider_id=provider_id or new_inbound_id(),
        chat_id=digits(sender),
        body=body or "",
        from_me=from_me,
        push_name=name or None,
        is_group=is_group,
        group_name=group_name or None,
        participant=digits(participant) or None,
        media=media,
        media_type=media_type(media.mimetype) if media is not None else "chat",
        timestamp=timestamp or _utcnow(),
        raw=raw or {},
    )


def ack_event(provider_id: str, status: str) -> AckUpdate:
    """The AckUpdate of a status callback (GatewayError for an unknown status)."""
    if status not in STATUSES:
        raise GatewayError("ERR_FAKE_BAD_STATUS", f"unknown status {status!r}")
    ack = STATUS_ACKS[status]
    return AckUpdate(
        provider_id=provider_id,
        ack=ack,
        error="failed on demand" if ack == ACK_ERROR else None,
    )


def _iso(now: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`, the outbox's timestamp format."""
    now = now.astimezone(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _send_type(mimetype: str) -> str:
    major = mimetype.split("/", 1)[0].lower()
    return major if major in ("image", "audio", "video") else "document"


class FakeGateway(Gateway[FakeSettings]):
    """In-process provider: records sends, answers ids, promises acks (see the package doc)."""

    name = "fake"
    settings_type = FakeSettings

    # -- sessions --

    def start_session(self, settings: FakeSettings) -> SessionState:
        """Connected at once: the fake has no QR code."""
        return SessionState("CONNECTED")

    def stop_session(self, settings: FakeSettings) -> SessionState:
        """Disconnected."""
        return SessionState("DISCONNECTED")

    # -- sends --

    def _check(self, settings: FakeSettings, to: str | None = None) -> None:
        """Raise the on-demand failures: not connected (retryable), "000" numbers (final)."""
        if settings.status != "CONNECTED":
            raise SessionNotConnectedError(
                f"connection {settings.connection_id} is {settings.status}"
            )
        if to is not None and digits(to).startswith(REJECTED_PREFIX):
            raise GatewayError("ERR_FAKE_REJECTED", f"the fake refuses {to}", retryable=False)

    def _record(self, settings: FakeSettings, to: str, kind: str, body: str, **extra: Any) -> str:
        """Record one outbox entry; return its provider id."""
        provider_id = f"FAKE-{uuid.uuid4().hex}"
        entry: dict[str, Any] = {
            "id": provider_id,
            "to": to,
            "type": kind,
            "body": body,
            "createdAt": _iso(settings.clock()),
        }
        entry.update({k: v for k, v in extra.items() if v is not None})
        record(settings.store, settings.connection_id, entry)
        return provider_id

    def _sent(
        self, settings: FakeSettings, to: str, kind: str, body: str, **extra: Any
    ) -> SendResult:
        """Record a send and answer its provider id (its acks: `scheduled_acks`)."""
        return SendResult(provider_id=self._record(settings, to, kind, body, **extra), ack=ACK_SENT)

    def scheduled_acks(
        self, settings: FakeSettings, provider_id: str
    ) -> list[tuple[float, AckUpdate]]:
        """The configured acks of one send, one every `ack_delay` seconds."""
        return [
            (settings.ack_delay * step, AckUpdate(provider_id=provider_id, ack=ack))
            for step, ack in enumerate(settings.auto_acks, start=1)
        ]

    def send_text(
        self,
        settings: FakeSettings,
        to: str,
        body: str,
        *,
        is_group: bool = False,
        quoted_provider_id: str | None = None,
        client_ref: str | None = None,
    ) -> SendResult:
        """Record a text message."""
        self._check(settings, to)
        return self._sent(
            settings,
            to,
            "text",
            body,
            isGroup=is_group or None,
            quotedId=quoted_provider_id,
            clientRef=client_ref,
        )

    def send_media(
        self,
        settings: FakeSettings,
        to: str,
        media: Media,
        *,
        caption: str = "",
        is_group: bool = False,
        voice: bool = False,
        client_ref: str | None = None,
    ) -> SendResult:
        """Record a file; the settings' media sink keeps its bytes so `mediaUrl` opens it."""
        self._check(settings, to)
        saved = settings.media_sink(media) if settings.media_sink is not None else None
        mimetype = saved.mimetype if saved is not None else media.mimetype
        return self._sent(
            settings,
            to,
            _send_type(mimetype),
            caption,
            mediaUrl=saved.url if saved is not None else None,
            mimetype=mimetype,
            filename=media.filename,
            isGroup=is_group or None,
            voice=voice or None,
            clientRef=client_ref,
        )

    def find_sent(self, settings: FakeSettings, to: str, client_ref: str) -> str | None:
        """Look the send up (every process shares the references through Redis)."""
        return lookup_ref(settings.store, settings.connection_id, client_ref)

    def send_interactive(
        self,
        settings: FakeSettings,
        to: str,
        body: str,
        choices: list[tuple[str, str]],
        *,
        kind: str = "button",
    ) -> SendResult:
        """Record a menu of buttons or a list (any number of choices)."""
        self._check(settings, to)
        return self._sent(
            settings,
            to,
            "interactive",
            body,
            interactive=kind,
            choices=[{"id": key, "title": title} for key, title in choices],
        )

    def send_reaction(
        self,
        settings: FakeSettings,
        to: str,
        provider_id: str,
        emoji: str,
        *,
        from_me: bool = False,
    ) -> SendResult:
        """Record a reaction to `provider_id`."""
        self._check(settings, to)
        return self._sent(settings, to, "reaction", emoji, targetId=provider_id)

    def mark_read(self, settings: FakeSettings, to: str, provider_ids: list[str]) -> None:
        """Record read receipts (type "read")."""
        self._check(settings)
        self._record(settings, to, "read", "", targetIds=list(provider_ids))

    def delete_message(self, settings: FakeSettings, to: str, provider_id: str) -> None:
        """Record a delete-for-everyone (type "delete")."""
        self._check(settings)
        self._record(settings, to, "delete", "", targetId=provider_id)

    # -- lookups --

    def fetch_media(self, settings: FakeSettings, media_ref: str) -> Media:
        """Always fails: the fake delivers inbound media inline, never by reference."""
        raise GatewayError("ERR_FAKE_NO_MEDIA_REF", "the fake keeps inbound media inline")

    def check_number(self, settings: FakeSettings, number: str) -> str | None:
        """10-15 digits not starting with "000" are on WhatsApp (answered as digits)."""
        value = digits(number)
        if 10 <= len(value) <= 15 and not value.startswith(REJECTED_PREFIX):
            return value
        return None

    def list_contacts(self, settings: FakeSettings) -> list[PhoneContact]:
        """The address book, then the outbox's recipients, each number once."""
        self._check(settings)
        found: dict[str, PhoneContact] = {}
        for number, entry in read_contacts(settings.store, settings.connection_id).items():
            found[number] = PhoneContact(
                number, name=entry.get("name") or None, is_group=bool(entry.get("isGroup"))
            )
        for sent in read_outbox(settings.store, settings.connection_id):
            number = digits(sent.get("to"))
            if number and number not in found and sent.get("type") not in ("read", "delete"):
                found[number] = PhoneContact(number, is_group=bool(sent.get("isGroup")))
        return list(found.values())

    def parse_webhook(
        self, settings: FakeSettings, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """The fake's JSON: an inbound message `{from, ...}` or an ack `{id, status}`.

        Fields of another type count as absent; the events are bounded like a real
        provider's (`whatsapp/bounds.py`).
        """
        if not isinstance(payload, dict):
            raise GatewayError("ERR_FAKE_BAD_PAYLOAD", "a JSON object is expected")
        sender = text(payload.get("from"), None)
        if sender:
            event = inbound_event(
                sender,
                name=text(payload.get("name"), None) or None,
                body=text(payload.get("body")),
                provider_id=ident(payload.get("id")) or None,
                from_me=payload.get("fromMe") is True,
                is_group=payload.get("isGroup") is True,
                group_name=text(payload.get("groupName"), None) or None,
                participant=text(payload.get("participant"), None) or None,
                raw=payload,
                timestamp=settings.clock(),
            )
            if not event.chat_id:
                return [RejectedEvent(f"message {event.provider_id}: no sender digits")]
            return bound_events([event])
        provider_id, status = ident(payload.get("id")), text(payload.get("status"), 40)
        if provider_id and status:
            return bound_events([ack_event(provider_id, status)])
        raise GatewayError("ERR_FAKE_BAD_PAYLOAD", "neither an inbound message nor a status")

    # -- helpers for the HTTP face and tests --

    def outbox(self, settings: FakeSettings) -> list[dict[str, Any]]:
        """What was sent through the connection, newest last."""
        return read_outbox(settings.store, settings.connection_id)
