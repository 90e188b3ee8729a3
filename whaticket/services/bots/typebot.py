"""Typebot integration: run a ticket's conversation through a Typebot flow (chat API v1).

Wire (docs.typebot.io, API reference "Start chat" / "Continue chat"):
  POST {url}/api/v1/typebots/{slug}/startChat
       {"prefilledVariables": {"number", "pushName"}, "textBubbleContentFormat": "richText"}
       -> {"sessionId", "messages": [...], "input"?: {...}}
  POST {url}/api/v1/sessions/{sessionId}/continueChat
       {"message": {"type": "text", "text": ...}, "textBubbleContentFormat": "richText"}
       -> {"messages": [...], "input"?: {...}}
A message is {"type": "text", "content": {"type": "richText", "richText": [slate nodes]}} or
{"type": "image"|"audio"|"video"|"embed", "content": {"url": ...}}; a "choice input" lists
its buttons in input.items[].content.

The service flushes and never commits; a Typebot outage never raises into the inbound flow.
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import sqlalchemy as sa
from flask import current_app

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, QueueIntegration, Ticket, User
from whaticket.models.message import Message
from whaticket.services.messages import outbound as message_out
from whaticket.services.tickets import episodes, events
from whaticket.utils import outbound

DEFAULT_TIMEOUT = 15
#: A pause longer than this (ms) would only hold the inbound worker; Typebot's own cap.
MAX_DELAY_MS = 5000
CHOICE_BULLET = "▶️"
MEDIA_TYPES = ("image", "audio", "video")
#: Ask for text bubbles as Slate rich text (the documented default), which we flatten.
_FORMAT = {"textBubbleContentFormat": "richText"}


class TypebotError(Exception):
    """Typebot could not be reached or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# -- entry point ---------------------------------------------------------------------


def handle(ticket: Ticket, message: Message, integration: QueueIntegration, now: datetime) -> None:
    """Feed one inbound message to the Typebot flow and send its replies on the ticket."""
    body = (message.body or "").strip()
    if _keyword(body, integration.typebot_keyword_restart):
        clear_session(ticket)
        if integration.typebot_restart_message:
            message_out.send_bot_text(ticket, integration.typebot_restart_message)
        db.session.flush()
        return
    if _keyword(body, integration.typebot_keyword_finish):
        _finish(ticket)
        return

    ticket.use_integration = True
    ticket.integration_id = integration.id
    try:
        data = _exchange(ticket, body, integration, now)
    except TypebotError as exc:
        # The message itself is already stored; the next one starts a fresh session.
        current_app.logger.warning(
            "typebot %s failed on ticket %s: %s", integration.id, ticket.id, exc
        )
        clear_session(ticket)
        db.session.flush()
        return
    ticket.typebot_session_at = now
    db.session.flush()
    _send_replies(ticket, integration, data, now)
    db.session.flush()


def clear_session(ticket: Ticket) -> None:
    """Forget the Typebot session: the next message starts the flow from the beginning."""
    ticket.typebot_session_id = None
    ticket.typebot_session_at = None


def _keyword(body: str, keyword: str | None) -> bool:
    return bool(keyword and keyword.strip()) and body.lower() == (keyword or "").strip().lower()


def _expired(ticket: Ticket, integration: QueueIntegration, now: datetime) -> bool:
    """No session yet, or idle longer than typebotExpires minutes (0 = never expires)."""
    if not ticket.typebot_session_id:
        return True
    if integration.typebot_expires and integration.typebot_expires > 0:
        last = ticket.typebot_session_at
        return last is None or now - last > timedelta(minutes=integration.typebot_expires)
    return False


# -- HTTP ------------------------------------------------------------------------------


def _base(integration: QueueIntegration) -> str:
    base = (integration.url_n8n or "").rstrip("/")
    if not base or not integration.typebot_slug:
        raise TypebotError("the integration has no Typebot URL or slug")
    return base


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One chat API call; the JSON answer, or TypebotError."""
    timeout = current_app.config.get("TYPEBOT_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        resp = outbound.post(url, json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise TypebotError(f"{type(exc).__name__}: {exc}") from exc
    if resp.status_code >= 400:
        raise TypebotError(f"HTTP {resp.status_code}: {resp.text[:200]}", resp.status_code)
    try:
        data = resp.json()
    except ValueError as exc:
        raise TypebotError("the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise TypebotError("the answer is not a JSON object")
    return data


def _start(ticket: Ticket, integration: QueueIntegration) -> dict[str, Any]:
    """Start a chat with the contact's number and name as prefilled variables."""
    contact = ticket.contact
    data = _post(
        f"{_base(integration)}/api/v1/typebots/{integration.typebot_slug}/startChat",
        {
            "prefilledVariables": {"number": contact.number, "pushName": contact.name or ""},
            **_FORMAT,
        },
    )
    session_id = data.get("sessionId")
    if not isinstance(session_id, str) or not session_id:
        raise TypebotError("startChat answered no sessionId")
    ticket.typebot_session_id = session_id[:100]
    return data


def _exchange(
    ticket: Ticket, body: str, integration: QueueIntegration, now: datetime
) -> dict[str, Any]:
    """Start a session when there is none (or it expired), else continue it with `body`."""
    if _expired(ticket, integration, now):
        return _start(ticket, integration)
    url = f"{_base(integration)}/api/v1/sessions/{ticket.typebot_session_id}/continueChat"
    try:
        return _post(url, {"message": {"type": "text", "text": body}, **_FORMAT})
    except TypebotError as exc:
        if exc.status != 404:
            raise
        # Typebot forgot the session (it ended or was purged): start the flow afresh.
        clear_session(ticket)
        return _start(ticket, integration)


# -- replies ---------------------------------------------------------------------------


def pause(milliseconds: int) -> None:
    """Wait between two replies, as a person typing would (tests replace this)."""
    if milliseconds > 0:
        time.sleep(min(milliseconds, MAX_DELAY_MS) / 1000)


def _send_replies(
    ticket: Ticket, integration: QueueIntegration, data: dict[str, Any], now: datetime
) -> None:
    """Send the bubbles in order, then the choice list; a JSON trigger may end the bot."""
    replies = [m for m in data.get("messages") or [] if isinstance(m, dict)]
    outgoing: list[tuple[str, Any]] = []
    if not replies and integration.typebot_unknown_message:
        outgoing.append(("text", integration.typebot_unknown_message))
    for reply in replies:
        kind = reply.get("type")
        content = reply.get("content") if isinstance(reply.get("content"), dict) else {}
        if kind == "text":
            outgoing.append(("text", bubble_text(content)))
        elif kind in MEDIA_TYPES and content.get("url"):
            outgoing.append(("media", str(content["url"])))
        elif content.get("url"):  # embed and bubbles we cannot render: the link itself
            outgoing.append(("text", str(content["url"])))
    choices = choice_list(data.get("input"))
    if choices:
        outgoing.append(("text", choices))

    first = True
    for kind, value in outgoing:
        if kind == "text" and not value.strip():
            continue
        if kind == "text" and value.lstrip().startswith("#"):
            trigger = _parse_trigger(value)
            if trigger is not None:
                if _run_trigger(ticket, trigger, now):
                    return  # the bot handed the ticket over: the rest is not sent
                continue
        if not first:
            pause(integration.typebot_delay_message or 0)
        first = False
        if kind == "media":
            _send_media(ticket, value)
        else:
            message_out.send_bot_text(ticket, value)


def choice_list(input_block: Any) -> str:
    """A choice input's buttons as "▶️ item" lines (empty when there is none)."""
    if not isinstance(input_block, dict) or "choice" not in str(input_block.get("type") or ""):
        return ""
    lines = []
    for item in input_block.get("items") or []:
        if not isinstance(item, dict):
            continue
        label = item.get("content") or item.get("title")
        if isinstance(label, str) and label.strip():
            lines.append(f"{CHOICE_BULLET} {label.strip()}")
    return "\n".join(lines)


# -- rich text -> WhatsApp markdown --------------------------------------------------


def bubble_text(content: dict[str, Any]) -> str:
    """The text of a text bubble: richText flattened, or markdown/plain text as sent."""
    rich = content.get("richText")
    if isinstance(rich, list):
        return flatten_rich_text(rich)
    for key in ("markdown", "plainText"):
        if isinstance(content.get(key), str):
            return content[key]
    return ""


def flatten_rich_text(nodes: list[Any]) -> str:
    """Slate nodes as WhatsApp text: one line per block, *bold*, _italic_, ~strike/underline~."""
    return "\n".join(_inline(node) for node in nodes if isinstance(node, dict)).strip("\n")


def _wrap(text: str, marker: str) -> str:
    """Markers hug the words: WhatsApp ignores "* bold *", so blanks go outside them."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def _inline(node: dict[str, Any]) -> str:
    """One Slate node (leaf, link, inline variable or block) as text."""
    if "text" in node and "children" not in node:
        text = str(node.get("text") or "")
        if node.get("bold"):
            text = _wrap(text, "*")
        if node.get("italic"):
            text = _wrap(text, "_")
        if node.get("underline") or node.get("strikethrough"):
            text = _wrap(text, "~")
        return text
    children = [c for c in node.get("children") or [] if isinstance(c, dict)]
    inner = "".join(_inline(child) for child in children)
    if node.get("type") == "a" and node.get("url"):
        url = str(node["url"])
        label = inner.strip()
        return url if not label or label == url else f"{label} ({url})"
    if node.get("type") in ("ol", "ul"):
        return "\n".join(_inline(child) for child in children)
    if node.get("type") == "li" or node.get("type") == "lic":
        return f"• {inner}" if node.get("type") == "li" else inner
    return inner


# -- triggers ----------------------------------------------------------------------------


def _parse_trigger(text: str) -> dict[str, Any] | None:
    """`#{"queueId": 3}` as a dict; None when the text is not a JSON trigger (send as is)."""
    try:
        data = json.loads(text.strip()[1:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _run_trigger(ticket: Ticket, trigger: dict[str, Any], now: datetime) -> bool:
    """Apply a trigger; True when the bot stopped (ticket moved or bot switched off)."""
    if trigger.get("stopBot") is True:
        _stop_bot(ticket)
        db.session.flush()
        events.emit_ticket_update(
            ticket,
            old_status=ticket.status,
            old_user_id=ticket.user_id,
            old_queue_id=ticket.queue_id,
        )
        return True
    if "queueId" in trigger:
        return _transfer(ticket, trigger.get("queueId"), trigger.get("userId"), now)
    current_app.logger.info("typebot trigger ignored on ticket %s: %s", ticket.id, trigger)
    return False


def _stop_bot(ticket: Ticket) -> None:
    ticket.use_integration = False
    ticket.integration_id = None
    clear_session(ticket)


def _company_row(model: Any, ticket: Ticket, value: Any) -> Any:
    """The row of the ticket's company with this id, or None (unknown, foreign, not an int)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        row_id = int(value)
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(model).where(model.id == row_id, model.company_id == ticket.company_id)
    )


def _transfer(ticket: Ticket, queue_value: Any, user_value: Any, now: datetime) -> bool:
    """Move the ticket to a company queue (pending), or to a user in it (open)."""
    queue = _company_row(Queue, ticket, queue_value)
    if queue is None:
        current_app.logger.warning(
            "typebot trigger on ticket %s names unknown queue %r", ticket.id, queue_value
        )
        return False
    user = None
    if user_value is not None:
        user = _company_row(User, ticket, user_value)
        if user is None:
            current_app.logger.warning(
                "typebot trigger on ticket %s names unknown user %r", ticket.id, user_value
            )
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    tracking = episodes.open_tracking(ticket)
    _stop_bot(ticket)
    ticket.chatbot = False
    ticket.queue_option_id = None
    ticket.queue_id = queue.id
    tracking.queue_id = queue.id
    tracking.queued_at = now
    if user is not None:
        ticket.user_id = user.id
        ticket.status = "open"
        tracking.started_at = now
        tracking.user_id = user.id
    else:
        ticket.user_id = None
        ticket.status = "pending"
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
    return True


def _finish(ticket: Ticket) -> None:
    """The finish keyword: close the ticket like an agent would (farewell, episode end)."""
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    tracking = episodes.open_tracking(ticket)
    episodes.finish_episode(ticket, tracking)
    _stop_bot(ticket)
    ticket.status = "closed"
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])


# -- media -----------------------------------------------------------------------------


def _download(url: str) -> tuple[bytes, str, str]:
    """Fetch a bubble's file with the media size cap: (data, filename, mimetype)."""
    cap = int(current_app.config.get("MEDIA_MAX_BYTES", 16 * 1024 * 1024))
    timeout = current_app.config.get("TYPEBOT_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        # Redirects are followed (CDNs use them); the guard checks every hop.
        resp = outbound.get(url, timeout=timeout, max_bytes=cap, allow_redirects=True)
    except outbound.ResponseTooLarge as exc:
        raise TypebotError(f"{url} is larger than {cap} bytes") from exc
    if resp.status_code >= 400:
        raise TypebotError(f"HTTP {resp.status_code} for {url}", resp.status_code)
    mimetype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    name = posixpath.basename(unquote(urlsplit(url).path)) or "file"
    if not mimetype or mimetype == "application/octet-stream":
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return resp.content, name, mimetype


def _send_media(ticket: Ticket, url: str) -> None:
    """Send a bubble's image/audio/video as a file; when that fails, send its link instead."""
    try:
        data, name, mimetype = _download(url)
        message_out.deliver_media(ticket, [(data, name, mimetype)], [], origin="bot")
    except (TypebotError, requests.RequestException, AppError) as exc:
        current_app.logger.warning("typebot media %s on ticket %s failed: %s", url, ticket.id, exc)
        message_out.send_bot_text(ticket, url)
