"""AI answers: a prompt replies to a ticket through an OpenAI-compatible chat-completions API.

Wire (OpenAI API reference, "Create chat completion"; also served by gateways and local
model servers such as Ollama, vLLM or llama.cpp):
  POST {base_url}/chat/completions   Authorization: Bearer <key>
       {"model", "messages": [{"role": "system"|"user"|"assistant", "content"}],
        "max_tokens", "temperature"}
  -> {"choices": [{"message": {"role": "assistant", "content"}}],
      "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
  errors: non-2xx with {"error": {"message", "type", "code"}} (401 for a bad key).

The answer runs in a job after the inbound transaction commits (jobs/ai.py): `prepare`
reads what the request needs, the job ends the read transaction, `complete` waits on the
model with no transaction open, and `apply` re-checks the ticket and sends the reply. The
request carries the ticket's recent text history (the reference's was always empty,
quirk 8). Nothing here commits, and no provider failure reaches the inbound pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests
import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Prompt, Queue, Ticket
from whaticket.models.company import Company
from whaticket.services.billing import plans as plan_service
from whaticket.services.billing import standing as billing
from whaticket.services.bots import prompts as prompt_service
from whaticket.services.bots import routing
from whaticket.services.messages import outbound as message_out
from whaticket.services.tickets import episodes
from whaticket.utils import outbound
from whaticket.utils.queries import find_owned

#: What the model writes when a human must take over (the SaaS phrase, kept for prompts
#: written for it).
HANDOFF_PHRASE = "Ação: Transferir para o setor de atendimento"
#: The phrase in any case, with or without its accents ("Acao"), optionally wrapped in
#: markdown emphasis and followed by punctuation, so none of it reaches the customer.
_HANDOFF = re.compile(
    r"[*_~]*\s*a[cç][aã]o\s*[*_~]*\s*:\s*[*_~]*\s*transferir\s+para\s+o\s+setor\s+de\s+"
    r"atendimento\s*[*_~]*\s*[.!:;,\-\u2013\u2014]*",
    re.IGNORECASE,
)
#: Longest first name put in the system message.
NAME_MAX = 40


@dataclass
class AIRequest:
    """What one completion needs, read before the transaction ends (plain values only)."""

    ticket_id: int
    message_id: int
    prompt_id: int
    url: str
    api_key: str
    body: dict[str, Any]


@dataclass
class Completion:
    """The model's reply text and the token usage it reported."""

    content: str
    usage: dict[str, Any] = field(default_factory=dict)


class CompletionError(Exception):
    """The chat-completions API could not be reached or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# -- which prompt answers ----------------------------------------------------------------


def usable_prompt(company_id: int, prompt_id: int | None) -> Prompt | None:
    """The company's prompt with this id, if its plan has AI; None otherwise."""
    if prompt_id is None or not ai_enabled(company_id):
        return None
    return prompt_service.find_prompt(company_id, prompt_id)


def ai_enabled(company_id: int) -> bool:
    """Whether the company's plan includes AI prompts (no plan: allowed, as on the API)."""
    return plan_service.feature_enabled(db.session.get(Company, company_id), "use_open_ai")


def is_text(message: Message) -> bool:
    """A text the model can read (media and audio are not transcribed)."""
    return message.media_type == "chat" and bool((message.body or "").strip())


def schedule(ticket: Ticket, message: Message) -> None:
    """Answer `message` on the worker once the inbound transaction commits.

    An overdue company's bot stays quiet (and spends no tokens); media gets no answer.
    """
    if billing.sending_blocked(ticket.company_id) or not is_text(message):
        return
    jobs.enqueue(
        "ai.answer", ticket.id, message.id, job_id=f"whaticket-ai-{message.id}", durable=True
    )


# -- the request ---------------------------------------------------------------------------


def first_name(name: str | None) -> str:
    """The contact's first name, letters only (no digits, emoji or instructions), or ""."""
    for word in (name or "").split():
        cleaned = "".join(ch for ch in word if ch.isalpha() or ch in "-'").strip("-'")
        if cleaned:
            cleaned = cleaned[:NAME_MAX]
            return cleaned.capitalize() if cleaned.islower() or cleaned.isupper() else cleaned
    return ""


def system_message(prompt: Prompt, contact_name: str | None) -> str:
    """The prompt's own text plus how to address the customer and when to hand over."""
    name = first_name(contact_name)
    address = (
        f"- Chame o cliente pelo primeiro nome, {name}, para um atendimento pessoal e educado."
        if name
        else "- O nome do cliente não é conhecido: não invente um nome."
    )
    rules = [
        address,
        f"- Responda em no máximo {prompt.max_tokens} tokens, sem deixar o final truncado.",
        "- Quando o cliente precisar de um atendente humano, ou você não puder resolver o "
        f'pedido, comece a resposta com "{HANDOFF_PHRASE}".',
    ]
    return f"{prompt.prompt.strip()}\n\nRegras do atendimento:\n" + "\n".join(rules)


def history(ticket_id: int, up_to_message_id: int, limit: int) -> list[dict[str, str]]:
    """The ticket's last `limit` texts up to the current message, oldest first, as chat roles.

    Insertion order (id) is the conversation order: a provider's timestamp may be late.
    Deleted messages, media and empty bodies are left out; there are no private notes
    among messages (ticket notes live in their own table).
    """
    rows = db.session.execute(
        sa.select(Message.from_me, Message.body)
        .where(
            Message.ticket_id == ticket_id,
            Message.id <= up_to_message_id,
            Message.media_type == "chat",
            Message.is_deleted.is_(False),
            Message.body != "",
        )
        .order_by(Message.id.desc())
        .limit(max(limit, 1))
    ).all()
    turns = []
    for from_me, body in reversed(rows):
        text = (body or "").strip()
        if text:
            turns.append({"role": "assistant" if from_me else "user", "content": text})
    return turns


def _newer_customer_message(ticket_id: int, message_id: int) -> bool:
    """A customer wrote again after `message_id`: that message's own job answers."""
    return (
        db.session.scalar(
            sa.select(Message.id)
            .where(
                Message.ticket_id == ticket_id,
                Message.id > message_id,
                Message.from_me.is_(False),
            )
            .limit(1)
        )
        is not None
    )


def _still_answering(ticket: Ticket, prompt_id: int, message_id: int) -> str | None:
    """Why the AI must not answer now (None when it should)."""
    if episodes.agent_holds(ticket):
        return "an agent holds the ticket"
    if ticket.is_group:
        return "group ticket"
    if not ticket.use_integration or ticket.prompt_id != prompt_id:
        return "the AI no longer runs on the ticket"
    if _newer_customer_message(ticket.id, message_id):
        return "a newer customer message will be answered instead"
    return None


def prepare(ticket_id: int, message_id: int) -> AIRequest | None:
    """Everything the completion needs, or None when this message gets no AI answer."""
    ticket = db.session.get(Ticket, ticket_id)
    message = db.session.get(Message, message_id)
    if ticket is None or message is None or message.ticket_id != ticket.id:
        return None
    if message.from_me or not is_text(message) or ticket.prompt_id is None:
        return None
    reason = _still_answering(ticket, ticket.prompt_id, message.id)
    if reason is not None:
        current_app.logger.info(
            "AI skips message %s of ticket %s: %s", message.id, ticket.id, reason
        )
        return None
    prompt = usable_prompt(ticket.company_id, ticket.prompt_id)
    if prompt is None or billing.sending_blocked(ticket.company_id):
        return None
    key = prompt_service.api_key(prompt)
    if not key:
        current_app.logger.error(
            "AI prompt %s of company %s has no readable API key; ticket %s not answered",
            prompt.id,
            prompt.company_id,
            ticket.id,
        )
        return None
    base = (prompt.base_url or current_app.config["OPENAI_BASE_URL"]).rstrip("/")
    messages = [{"role": "system", "content": system_message(prompt, ticket.contact.name)}]
    messages += history(ticket.id, message.id, prompt.max_messages)
    body = {
        "model": prompt.model or current_app.config["OPENAI_MODEL"],
        "messages": messages,
        "max_tokens": prompt.max_tokens,
        "temperature": prompt.temperature,
    }
    return AIRequest(ticket.id, message.id, prompt.id, f"{base}/chat/completions", key, body)


# -- HTTP ------------------------------------------------------------------------------------


def _error_detail(resp: requests.Response) -> str:
    """The provider's error message (OpenAI's {"error": {"message"}}), shortened."""
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:200]
    return str(data)[:200]


def call(request: AIRequest) -> Completion:
    """POST the completion request; the reply text and usage, or CompletionError."""
    timeout = current_app.config.get("OPENAI_TIMEOUT", 30)
    try:
        resp = outbound.post(
            request.url,
            json=request.body,
            headers={"Authorization": f"Bearer {request.api_key}"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:  # refused, DNS, timeout
        raise CompletionError(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= resp.status_code < 300:
        raise CompletionError(f"HTTP {resp.status_code}: {_error_detail(resp)}", resp.status_code)
    try:
        data = resp.json()
    except ValueError as exc:
        raise CompletionError("the answer is not JSON") from exc
    choices = data.get("choices") if isinstance(data, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise CompletionError("the answer has no choices[0].message.content")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return Completion(content, usage)


def complete(request: AIRequest) -> Completion | None:
    """`call`, logging failures instead of raising (the customer's message is kept)."""
    try:
        return call(request)
    except CompletionError as exc:
        if exc.status == 401:
            current_app.logger.error(
                "AI prompt %s: the provider rejected the API key (HTTP 401); ticket %s not "
                "answered. Check the prompt's API key. %s",
                request.prompt_id,
                request.ticket_id,
                exc,
            )
        else:
            current_app.logger.warning(
                "AI prompt %s failed on ticket %s: %s", request.prompt_id, request.ticket_id, exc
            )
        return None


# -- the reply -------------------------------------------------------------------------------


def split_handoff(reply: str) -> tuple[bool, str]:
    """(asks for a human, the reply without the hand-off phrase), stripped."""
    text = (reply or "").strip()
    cleaned, found = _HANDOFF.subn("", text)
    if not found:
        return False, text
    # Blank lines left where the phrase stood collapse to one paragraph break.
    cleaned = re.sub(r"\n\s*\n\s*\n+", "\n\n", cleaned).strip()
    return True, cleaned


def apply(request: AIRequest, result: Completion) -> None:
    """Count the tokens, then send the reply or hand the ticket to the human queue."""
    # Tokens were spent whatever happens next: count them.
    prompt_service.add_usage(request.prompt_id, result.usage)
    ticket = db.session.get(Ticket, request.ticket_id)
    if ticket is None:
        return
    reason = _still_answering(ticket, request.prompt_id, request.message_id)
    if reason is not None:
        current_app.logger.info("AI reply on ticket %s dropped: %s", ticket.id, reason)
        return
    handoff, text = split_handoff(result.content)
    if not handoff:
        if text:
            message_out.send_bot_text(ticket, text)
        return
    prompt = db.session.get(Prompt, request.prompt_id)
    queue = None
    if prompt is not None and prompt.queue_id is not None:
        queue = find_owned(Queue, prompt.queue_id, ticket.company_id)
    routing.hand_off(ticket, queue, utcnow(), text)
