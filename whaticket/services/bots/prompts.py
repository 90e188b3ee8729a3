"""AI prompts: company-scoped CRUD, encrypted keys, usage counters and events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Prompt, Queue, Ticket, Whatsapp
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.prompts import PromptSchema, is_placeholder
from whaticket.utils.crypto import decrypt_str, encrypt_str
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import find_owned, value_taken

NOT_FOUND = "ERR_PROMPT_NOT_FOUND"
IN_USE = "ERR_PROMPT_IN_USE"
#: Columns a create or update copies from the payload as they are.
_COLUMNS = ("name", "prompt", "model", "base_url", "voice_region")
#: Columns whose null (or absence on create) means the model default.
_DEFAULTS: dict[str, Any] = {
    "max_messages": 10,
    "max_tokens": 300,
    "temperature": 1.0,
    "voice": "texto",
}


def list_prompts(company_id: int, search: str, page_number: int) -> tuple[list[Prompt], int, bool]:
    """A page (20) of the company's prompts by name, searched on the name."""
    stmt = sa.select(Prompt).where(Prompt.company_id == company_id).order_by(Prompt.name, Prompt.id)
    if search:
        stmt = stmt.where(search_filter(search, Prompt.name))
    return paginate(stmt, page_number)


def find_prompt(company_id: int, prompt_id: int) -> Prompt | None:
    """The company's prompt with this id; None when missing or another company's."""
    return find_owned(Prompt, prompt_id, company_id)


def get_prompt(company_id: int, prompt_id: int) -> Prompt:
    """A prompt of the company; another company's is 404 like a missing one."""
    record = find_prompt(company_id, prompt_id)
    if record is None:
        raise AppError(NOT_FOUND, 404)
    return record


def company_prompt_id(
    company_id: int, prompt_id: int | None, field: str = "promptId"
) -> int | None:
    """Check a promptId sent for a queue or connection (400 fields.<field> if not the company's)."""
    if prompt_id is None:
        return None
    if find_prompt(company_id, prompt_id) is None:
        raise AppError("ERR_VALIDATION", 400, {field: ["Unknown prompt."]})
    return prompt_id


def api_key(record: Prompt) -> str | None:
    """The decrypted API key (None when unset or unreadable with this server's key)."""
    try:
        return decrypt_str(record.api_key_encrypted)
    except ValueError:
        return None


def _check_queue(company_id: int, queue_id: int | None) -> None:
    """The hand-off queue is required and must be one of the company's queues."""
    if queue_id is None:
        raise AppError("ERR_VALIDATION", 400, {"queueId": ["Missing data for required field."]})
    if find_owned(Queue, queue_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"queueId": ["Unknown queue."]})


def _check_unique(company_id: int, name: str | None, exclude_id: int | None = None) -> None:
    """The name is unique per company, case-insensitively."""
    scope = (Prompt.company_id == company_id,)
    if name and value_taken(Prompt.name, name, exclude_id=exclude_id, where=scope):
        raise AppError("ERR_PROMPT_NAME_ALREADY_EXISTS", 400)


def _apply(record: Prompt, data: dict[str, Any]) -> None:
    """Copy the sent fields; nulls restore defaults; blank or placeholder keys keep theirs."""
    for key in _COLUMNS:
        if key in data:
            setattr(record, key, data[key])
    if "queue_id" in data:
        queue_id = data["queue_id"]
        record.queue_id = queue_id
        # The eagerly loaded `queue` would otherwise keep showing the old one until a reload.
        record.queue = db.session.get(Queue, queue_id) if queue_id is not None else None
    for key, default in _DEFAULTS.items():
        if key in data:
            setattr(record, key, default if data[key] is None else data[key])
    # Keys are write-only: an empty value or the placeholder the API showed keeps the stored
    # one, so saving the edit form without retyping the key does not erase it.
    for key, column in (("api_key", "api_key_encrypted"), ("voice_key", "voice_key_encrypted")):
        value = data.get(key)
        if value and not is_placeholder(value):
            setattr(record, column, encrypt_str(value))


def create_prompt(company_id: int, data: dict[str, Any]) -> Prompt:
    """Create a prompt (unique name, a company queue for the hand-off, an API key)."""
    if data.get("max_messages") is None:
        raise AppError("ERR_VALIDATION", 400, {"maxMessages": ["Missing data for required field."]})
    if is_placeholder(data.get("api_key")):
        raise AppError("ERR_VALIDATION", 400, {"apiKey": ["Missing data for required field."]})
    _check_queue(company_id, data.get("queue_id"))
    _check_unique(company_id, data.get("name"))
    record = Prompt(company_id=company_id, **_DEFAULTS)
    _apply(record, data)
    db.session.add(record)
    db.session.flush()
    emit_to_company(company_id, "prompt", {"action": "create", "prompt": payload(record)})
    return record


def update_prompt(company_id: int, prompt_id: int, data: dict[str, Any]) -> Prompt:
    """Update a prompt of the company; only the keys sent change."""
    record = get_prompt(company_id, prompt_id)
    if "queue_id" in data:
        _check_queue(company_id, data["queue_id"])
    if "name" in data:
        _check_unique(company_id, data["name"], exclude_id=record.id)
    _apply(record, data)
    db.session.flush()
    emit_to_company(company_id, "prompt", {"action": "update", "prompt": payload(record)})
    return record


def delete_prompt(company_id: int, prompt_id: int) -> None:
    """Delete a prompt no queue or connection uses (409 ERR_PROMPT_IN_USE otherwise)."""
    record = get_prompt(company_id, prompt_id)
    for model in (Queue, Whatsapp):
        used = db.session.scalar(
            sa.select(model.id)
            .where(model.company_id == company_id, model.prompt_id == record.id)
            .limit(1)
        )
        if used is not None:
            raise AppError(IN_USE, 409)
    # Tickets still answered by it (their queue switched prompts meanwhile) stop the AI;
    # the foreign key alone would leave use_integration set with no prompt behind it.
    db.session.execute(
        sa.update(Ticket)
        .where(Ticket.company_id == company_id, Ticket.prompt_id == record.id)
        .values(prompt_id=None, use_integration=False)
    )
    db.session.delete(record)
    db.session.flush()
    # The SaaS server sent `intelligenceId`, its frontend reads `promptId`: send both.
    emit_to_company(
        company_id,
        "prompt",
        {"action": "delete", "promptId": prompt_id, "intelligenceId": prompt_id},
    )


def add_usage(prompt_id: int, usage: dict[str, Any]) -> None:
    """Add a completion's token usage to the prompt's counters in one atomic UPDATE."""
    counts = {
        key: value
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
        if isinstance(value := usage.get(key), int) and not isinstance(value, bool) and value > 0
    }
    if not counts:
        return
    # col = col + n in SQL: two answers finishing together must both be counted.
    db.session.execute(
        sa.update(Prompt)
        .where(Prompt.id == prompt_id)
        .values({getattr(Prompt, key): getattr(Prompt, key) + n for key, n in counts.items()}),
        execution_options={"synchronize_session": False},
    )


def payload(record: Prompt) -> dict[str, Any]:
    """The prompt as events carry it (the API row: no key, only whether one is set)."""
    return PromptSchema().dump(record)
