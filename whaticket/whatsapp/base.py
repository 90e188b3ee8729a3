"""The gateway interface every WhatsApp provider implements, with typed results and errors.

Providers are pure adapters: each method takes the provider's own frozen settings object
(credentials decrypted, deployment defaults applied: `services/connections/gateway.py`
builds them from a connection row) and answers typed results or normalised events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

#: Ack values shared with the Message model and the SaaS frontend.
ACK_ERROR, ACK_PENDING, ACK_SENT, ACK_DELIVERED, ACK_READ, ACK_PLAYED = range(6)


class GatewayError(Exception):
    """A provider refused or failed an operation.

    `retryable` says whether trying again later may succeed (rate limits,
    timeouts, a disconnected session); `retry_after` is a hint in seconds.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.retryable = retryable
        self.retry_after = retry_after


class SessionNotConnectedError(GatewayError):
    """The connection is not connected: retryable once it reconnects."""

    def __init__(self, message: str = "session not connected") -> None:
        super().__init__("ERR_WAPP_NOT_INITIALIZED", message, retryable=True)


@dataclass(frozen=True)
class Media:
    """A file to send or that arrived: bytes plus what describes them."""

    data: bytes
    mimetype: str
    filename: str


@dataclass(frozen=True)
class SendResult:
    """What a provider answers to a send: its message id and the ack reached."""

    provider_id: str
    ack: int = ACK_SENT


@dataclass(frozen=True)
class SessionState:
    """A connection's session as the provider reports it."""

    status: str  # OPENING, qrcode, CONNECTED, DISCONNECTED, PENDING
    qrcode: str | None = None


@dataclass(frozen=True)
class PhoneContact:
    """One entry of the phone's address book, as a provider lists it."""

    #: Digits of the number (of the group id when `is_group`).
    number: str
    #: The name saved on the phone or the contact's profile name; None when unknown.
    name: str | None = None
    is_group: bool = False
    profile_pic_url: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A normalised inbound (or phone-sent, `from_me`) message of any provider."""

    provider_id: str
    #: Digits of the sender (1:1) or of the group id (groups).
    chat_id: str
    body: str = ""
    from_me: bool = False
    push_name: str | None = None
    is_group: bool = False
    group_name: str | None = None
    #: Digits of the group member who wrote, for group messages.
    participant: str | None = None
    media: Media | None = None
    #: Provider reference to download the media later, when not inline.
    media_ref: str | None = None
    media_type: str = "chat"
    quoted_provider_id: str | None = None
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    #: Every id the payload gives the 1:1 chat's person, as (kind, value) pairs: "phone"
    #: (digits), "lid" (WhatsApp Web LID digits), "wa_id" and "bsuid" (Cloud API). Empty:
    #: `chat_id` is a phone number (providers that know no other ids).
    identities: tuple[tuple[str, str], ...] = ()


#: The identity kinds a parser may report (the contact_identities kinds).
IDENTITY_KINDS = frozenset({"phone", "lid", "wa_id", "bsuid"})


@dataclass(frozen=True)
class AckUpdate:
    """A delivery/read receipt (or failure) for a message we sent."""

    provider_id: str
    ack: int
    error: str | None = None


@dataclass(frozen=True)
class ConnectionUpdate:
    """The session changed state (connected, QR code, logged out...)."""

    state: SessionState


@dataclass(frozen=True)
class ReactionUpdate:
    """Someone reacted to a message (an empty emoji removes the reaction)."""

    provider_id: str  # the message reacted to
    emoji: str
    from_number: str  # digits, or "me" for our own reactions


@dataclass(frozen=True)
class MessageEdited:
    """A message's text was edited (by the contact, or on our phone)."""

    provider_id: str
    body: str


@dataclass(frozen=True)
class MessageRevoked:
    """A message was deleted for everyone by its sender."""

    provider_id: str


@dataclass(frozen=True)
class CallEvent:
    """A voice or video call that rang on the connection."""

    provider_id: str
    from_number: str
    status: str = "terminate"  # offer, ringing, timeout, reject, accept, terminate
    is_video: bool = False


@dataclass(frozen=True)
class RejectedEvent:
    """A part of a delivery a parser refused (malformed or beyond what can be stored), and
    why: the caller keeps the delivery as failed with this reason instead of retrying it."""

    reason: str
    provider_id: str = ""


@dataclass(frozen=True)
class FoundMessage:
    """A past message a provider's message search returned (an outage backfill asks).

    `delivery` is the message as the provider's own webhook would have delivered it, so
    the caller stores it through the same inbound path as live traffic.
    """

    provider_id: str
    chat_id: str
    timestamp: datetime | None
    delivery: dict[str, Any]


GatewayEvent = (
    InboundMessage
    | AckUpdate
    | ConnectionUpdate
    | ReactionUpdate
    | MessageEdited
    | MessageRevoked
    | CallEvent
    | RejectedEvent
)


def media_type(mimetype: str) -> str:
    """The Message.media_type of a MIME type: image, video, audio or application."""
    major = (mimetype or "").split(";", 1)[0].strip().lower().split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "application"


#: The settings object one provider takes (CloudSettings, EvolutionSettings, ...).
S = TypeVar("S")


class Gateway(ABC, Generic[S]):
    """One provider. Instances are cheap and stateless: all state comes in the settings
    or lives in shared stores, so any web or worker process can act for any connection."""

    name: str = ""
    #: The frozen dataclass this provider's methods take as `settings`.
    settings_type: ClassVar[type[Any]] = object
    #: Whether `send_reaction` needs `from_me` (the caller then looks the message up).
    reactions_need_from_me: ClassVar[bool] = False
    #: Whether the provider can search past messages (`find_chats`, `find_messages`): an
    #: outage backfill needs it; the Cloud API has no such search.
    searches_messages: ClassVar[bool] = False

    @abstractmethod
    def start_session(self, settings: S) -> SessionState:
        """Open (or resume) the session; may answer with a QR code to scan."""

    @abstractmethod
    def stop_session(self, settings: S) -> SessionState:
        """Log out and forget the session."""

    @abstractmethod
    def send_text(
        self,
        settings: S,
        to: str,
        body: str,
        *,
        is_group: bool = False,
        quoted_provider_id: str | None = None,
        client_ref: str | None = None,
    ) -> SendResult:
        """Send a text message to `to` (digits, or a group id with is_group).

        `client_ref` is our own id for the send (campaigns use it to find out after a
        crash whether a send went out); providers that cannot keep it ignore it.
        """

    @abstractmethod
    def send_media(
        self,
        settings: S,
        to: str,
        media: Media,
        *,
        caption: str = "",
        is_group: bool = False,
        voice: bool = False,
        client_ref: str | None = None,
    ) -> SendResult:
        """Send one file (image, video, audio, document) with an optional caption."""

    def send_interactive(
        self,
        settings: S,
        to: str,
        body: str,
        choices: list[tuple[str, str]],
        *,
        kind: str = "button",
    ) -> SendResult:
        """Send a menu as reply buttons or a list of (id, title) choices.

        Providers without such widgets (or with too many choices for them) raise
        NotImplementedError, and the caller sends the menu as text.
        """
        raise NotImplementedError

    def find_sent(self, settings: S, to: str, client_ref: str) -> str | None:
        """The provider id of the send made with `client_ref`, or None when there was none.

        Providers that cannot look a send up raise NotImplementedError: the caller must
        then treat the send as unknown (and never risk sending it twice).
        """
        raise NotImplementedError

    @abstractmethod
    def send_reaction(
        self, settings: S, to: str, provider_id: str, emoji: str, *, from_me: bool = False
    ) -> SendResult:
        """React to a message; `from_me` says whether that message is ours (the caller
        knows from its stored messages; providers that key reactions by it need it)."""

    def scheduled_acks(self, settings: S, provider_id: str) -> list[tuple[float, AckUpdate]]:
        """The acks this provider promises for a send it just made, as (delay in seconds,
        update) pairs, for the caller to apply later; real providers call back instead."""
        return []

    @abstractmethod
    def mark_read(self, settings: S, to: str, provider_ids: list[str]) -> None:
        """Send read receipts for inbound messages."""

    @abstractmethod
    def delete_message(self, settings: S, to: str, provider_id: str) -> None:
        """Delete one of our messages for everyone."""

    @abstractmethod
    def fetch_media(self, settings: S, media_ref: str) -> Media:
        """Download the media an inbound message refers to."""

    @abstractmethod
    def check_number(self, settings: S, number: str) -> str | None:
        """The canonical digits of `number` on WhatsApp, or None when it has no account."""

    def list_contacts(self, settings: S) -> list[PhoneContact]:
        """The contacts the connected phone knows (groups flagged), for "import contacts".

        Providers without an address book (the Cloud API has none) raise
        NotImplementedError; `lists_contacts` tells without calling.
        """
        raise NotImplementedError

    @classmethod
    def lists_contacts(cls) -> bool:
        """Whether this provider implements `list_contacts`."""
        return cls.list_contacts is not Gateway.list_contacts

    @abstractmethod
    def parse_webhook(
        self, settings: S, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """Turn a provider callback into normalised events."""
