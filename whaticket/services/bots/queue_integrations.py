"""Queue integrations (webhook, n8n, Typebot, Dialogflow): company-scoped CRUD and events."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, QueueIntegration, Ticket, Whatsapp
from whaticket.models.queue_integration import new_secret
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.queue_integrations import QueueIntegrationSchema
from whaticket.utils import outbound
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import find_owned, get_owned, value_taken

#: Columns a create or update copies from the payload as they are.
_COLUMNS = (
    "type",
    "name",
    "project_name",
    "json_content",
    "language",
    "url_n8n",
    "typebot_slug",
    "typebot_keyword_finish",
    "typebot_unknown_message",
    "typebot_keyword_restart",
    "typebot_restart_message",
)
#: Number columns and the model defaults a null restores.
_NUMBERS = {"typebot_expires": 0, "typebot_delay_message": 1000}
#: Types that call a URL: webhook/n8n POST to it, Typebot uses it as the server base URL.
URL_TYPES = ("webhook", "n8n", "typebot")
NOT_FOUND = "ERR_QUEUE_INTEGRATION_NOT_FOUND"


def list_integrations(
    company_id: int, search: str, page_number: int
) -> tuple[list[QueueIntegration], int, bool]:
    """A page (20) of the company's integrations, newest first, searched on the name."""
    stmt = (
        sa.select(QueueIntegration)
        .where(QueueIntegration.company_id == company_id)
        .order_by(QueueIntegration.created_at.desc(), QueueIntegration.id.desc())
    )
    if search:
        stmt = stmt.where(search_filter(search, QueueIntegration.name))
    return paginate(stmt, page_number)


def get_integration(company_id: int, integration_id: int) -> QueueIntegration:
    """An integration of the company; another company's is 404 like a missing one."""
    return get_owned(QueueIntegration, integration_id, company_id, NOT_FOUND)


def company_integration_id(company_id: int, integration_id: int | None, field: str) -> int | None:
    """Check an integrationId sent for a queue or connection (400 fields.<field> if foreign)."""
    if integration_id is None:
        return None
    if find_owned(QueueIntegration, integration_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {field: ["Unknown integration."]})
    return integration_id


def _check_rules(values: dict[str, Any]) -> None:
    """Rules across fields, on the values the row will hold (400 with every problem)."""
    problems: dict[str, list[str]] = {}
    kind = values.get("type")
    url = values.get("url_n8n")
    if kind in URL_TYPES:
        if not url:
            problems["urlN8N"] = ["Missing data for required field."]
        elif problem := outbound.url_problem(url):
            problems["urlN8N"] = [problem]
    elif url and (problem := outbound.url_problem(url)):
        problems["urlN8N"] = [problem]
    if kind == "typebot" and not values.get("typebot_slug"):
        problems["typebotSlug"] = ["Missing data for required field."]
    if problems:
        raise AppError("ERR_VALIDATION", 400, problems)


#: A Dialogflow language tag: "pt-BR", "en", "zh-HK".
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
#: What a Google service-account key file holds (the fields a client signs in with).
_KEY_FIELDS = ("project_id", "private_key", "client_email")


def _service_account(text: str | None) -> dict[str, Any] | None:
    """The service-account key in `text`, None when it is not one."""
    try:
        key = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        return None
    if not all(isinstance(key.get(f), str) and key[f].strip() for f in _KEY_FIELDS):
        return None
    private_key = key["private_key"]
    if "-----BEGIN PRIVATE KEY-----" not in private_key or "-----END" not in private_key:
        return None
    return key if "@" in key["client_email"] else None


def test_dialogflow_session(company_id: int, data: dict[str, Any]) -> NoReturn:
    """The modal's "Testar Bot": check the Dialogflow settings, then say it cannot run.

    Dialogflow integrations are stored (and shown) but no agent is ever called here, so a
    test can only check the form: 400 ERR_VALIDATION for a missing project or a bad
    language, 400 ERR_INVALID_DIALOGFLOW_CREDENTIALS when the JSON is not a service-account
    key, and otherwise 400 ERR_DIALOGFLOW_NOT_SUPPORTED, never a pretend success.
    `company_id` scopes nothing yet: no row is read.
    """
    problems: dict[str, list[str]] = {}
    if not data.get("project_name"):
        problems["projectName"] = ["Missing data for required field."]
    language = data.get("language") or ""
    if not _LANGUAGE.match(language):
        problems["language"] = ["Not a language code (e.g. pt-BR)."]
    if problems:
        raise AppError("ERR_VALIDATION", 400, problems)
    if _service_account(data.get("json_content")) is None:
        raise AppError("ERR_INVALID_DIALOGFLOW_CREDENTIALS", 400)
    raise AppError("ERR_DIALOGFLOW_NOT_SUPPORTED", 400)


def _check_unique(company_id: int, name: str | None, exclude_id: int | None = None) -> None:
    """The name is unique per company, case-insensitively (as queue names are)."""
    scope = (QueueIntegration.company_id == company_id,)
    if name and value_taken(QueueIntegration.name, name, exclude_id=exclude_id, where=scope):
        raise AppError("ERR_QUEUE_INTEGRATION_NAME_ALREADY_EXISTS", 400)


def _apply(record: QueueIntegration, data: dict[str, Any]) -> None:
    """Copy the sent fields onto the row (a null number restores its default)."""
    for key in _COLUMNS:
        if key in data:
            setattr(record, key, data[key])
    for key, default in _NUMBERS.items():
        if key in data:
            setattr(record, key, default if data[key] is None else data[key])


def _current(record: QueueIntegration) -> dict[str, Any]:
    return {key: getattr(record, key) for key in _COLUMNS}


def create_integration(company_id: int, data: dict[str, Any]) -> QueueIntegration:
    """Create an integration (unique name; URL and slug as its type needs)."""
    _check_rules(data)
    _check_unique(company_id, data.get("name"))
    record = QueueIntegration(company_id=company_id, secret=new_secret())
    _apply(record, data)
    for key, default in _NUMBERS.items():
        if getattr(record, key) is None:
            setattr(record, key, default)
    db.session.add(record)
    db.session.flush()
    emit_to_company(
        company_id, "queueIntegration", {"action": "create", "queueIntegration": payload(record)}
    )
    return record


def update_integration(
    company_id: int, integration_id: int, data: dict[str, Any]
) -> QueueIntegration:
    """Update an integration of the company; only the keys sent change."""
    record = get_integration(company_id, integration_id)
    _check_rules({**_current(record), **data})
    if "name" in data:
        _check_unique(company_id, data["name"], exclude_id=record.id)
    _apply(record, data)
    db.session.flush()
    _emit_update(record)
    return record


def rotate_secret(company_id: int, integration_id: int) -> QueueIntegration:
    """Give the integration a fresh signing secret (the old one stops verifying at once)."""
    record = get_integration(company_id, integration_id)
    record.secret = new_secret()
    db.session.flush()
    _emit_update(record)
    return record


def delete_integration(company_id: int, integration_id: int) -> None:
    """Delete an integration; queues, connections and tickets using it let go of it."""
    record = get_integration(company_id, integration_id)
    # The foreign keys would null these ids, but tickets must also stop running the bot
    # (use_integration) and drop a Typebot session that belongs to the deleted flow.
    db.session.execute(
        sa.update(Ticket)
        .where(Ticket.company_id == company_id, Ticket.integration_id == record.id)
        .values(
            integration_id=None,
            use_integration=False,
            typebot_session_id=None,
            typebot_session_at=None,
        )
    )
    for model in (Queue, Whatsapp):
        db.session.execute(
            sa.update(model)
            .where(model.company_id == company_id, model.integration_id == record.id)
            .values(integration_id=None)
        )
    db.session.delete(record)
    db.session.flush()
    emit_to_company(
        company_id, "queueIntegration", {"action": "delete", "integrationId": integration_id}
    )


def _emit_update(record: QueueIntegration) -> None:
    emit_to_company(
        record.company_id,
        "queueIntegration",
        {"action": "update", "queueIntegration": payload(record)},
    )


def payload(record: QueueIntegration) -> dict[str, Any]:
    """The integration as events carry it: every user of the company gets them, so no secret."""
    return QueueIntegrationSchema().dump(record)
