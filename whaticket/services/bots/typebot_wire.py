"""Typebot's chat API over the guarded HTTP client, and its bubbles as WhatsApp text.

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

Nothing here touches the database: `bots/typebot.py` prepares an `Exchange` in one
transaction, this module talks to Typebot (and downloads media bubbles) between
transactions, and `typebot.py` applies the answer in the next one.
"""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from whaticket.utils import outbound

CHOICE_BULLET = "▶️"
MEDIA_TYPES = ("image", "audio", "video")
#: Ask for text bubbles as Slate rich text (the documented default), which we flatten.
_FORMAT = {"textBubbleContentFormat": "richText"}


class TypebotError(Exception):
    """Typebot could not be reached or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Exchange:
    """One customer message to feed to a flow, as plain values (read in a transaction)."""

    ticket_id: int
    message_id: int
    integration_id: int
    base_url: str
    slug: str
    session_id: str | None
    text: str
    number: str
    push_name: str
    timeout: float
    media_max_bytes: int


@dataclass
class Answer:
    """What Typebot answered: the session it used and its messages and input."""

    session_id: str
    data: dict[str, Any]
    #: Downloaded media bubbles by URL: (bytes, file name, MIME type), or None when the
    #: file could not be fetched (its link is sent instead).
    files: dict[str, tuple[bytes, str, str] | None] = field(default_factory=dict)


def _post(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One chat API call; the JSON answer, or TypebotError."""
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


def _start(exchange: Exchange) -> Answer:
    """Start a chat with the contact's number and name as prefilled variables."""
    data = _post(
        f"{exchange.base_url}/api/v1/typebots/{exchange.slug}/startChat",
        {
            "prefilledVariables": {"number": exchange.number, "pushName": exchange.push_name},
            **_FORMAT,
        },
        exchange.timeout,
    )
    session_id = data.get("sessionId")
    if not isinstance(session_id, str) or not session_id:
        raise TypebotError("startChat answered no sessionId")
    return Answer(session_id[:100], data)


def talk(exchange: Exchange) -> Answer:
    """Start a session when there is none (or it expired), else continue it; media
    bubbles are downloaded too, so applying the answer needs no network."""
    if not exchange.session_id:
        answer = _start(exchange)
    else:
        url = f"{exchange.base_url}/api/v1/sessions/{exchange.session_id}/continueChat"
        message = {"message": {"type": "text", "text": exchange.text}, **_FORMAT}
        try:
            answer = Answer(exchange.session_id, _post(url, message, exchange.timeout))
        except TypebotError as exc:
            if exc.status != 404:
                raise
            # Typebot forgot the session (it ended or was purged): start the flow afresh.
            answer = _start(exchange)
    for url in media_urls(answer.data):
        answer.files[url] = _download(url, exchange)
    return answer


def media_urls(data: dict[str, Any]) -> list[str]:
    """The URLs of the image, audio and video bubbles of an answer."""
    urls = []
    for reply in data.get("messages") or []:
        content = reply.get("content") if isinstance(reply, dict) else None
        if isinstance(content, dict) and reply.get("type") in MEDIA_TYPES and content.get("url"):
            urls.append(str(content["url"]))
    return urls


def _download(url: str, exchange: Exchange) -> tuple[bytes, str, str] | None:
    """A bubble's file within the media size cap, or None (its link is sent instead)."""
    cap = exchange.media_max_bytes
    try:
        # Redirects are followed (CDNs use them); the guard checks every hop.
        resp = outbound.get(url, timeout=exchange.timeout, max_bytes=cap, allow_redirects=True)
    except requests.RequestException:
        return None
    if resp.status_code >= 400:
        return None
    mimetype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    name = posixpath.basename(unquote(urlsplit(url).path)) or "file"
    if not mimetype or mimetype == "application/octet-stream":
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return resp.content, name, mimetype


# -- bubbles as WhatsApp text ----------------------------------------------------------


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
