"""Connections (Whatsapp rows): CRUD, queues, defaults, the external-API token, events.

The provider and its settings (aliases, providerConfig, the account id) are checked and
stored by `provider_settings`.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, Whatsapp
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.whatsapps import WhatsappSchema
from whaticket.services.billing import plans as plan_service
from whaticket.services.bots.prompts import company_prompt_id
from whaticket.services.bots.queue_integrations import company_integration_id
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.connections.provider_settings import (
    apply_config,
    check_provider_name,
    clean_provider_config,
    provider_config,
    resolve_provider,
    updated_provider,
)
from whaticket.utils.crypto import digest
from whaticket.utils.queries import find_owned, get_owned, value_taken
from whaticket.whatsapp.base import GatewayError

#: Plain fields copied from the payload as they are (None allowed).
_MESSAGE_FIELDS = (
    "greeting_message",
    "complation_message",
    "farewell_message",
    "rating_message",
    "out_of_hours_message",
    "expires_inactive_message",
)
#: Integer automation fields and their defaults (the model's, the SaaS's).
_NUMBER_FIELDS = {
    "time_to_transfer": 0,
    "max_use_bot_queues": 3,
    "time_use_bot_queues": 0,
    "expires_ticket": 0,
}

EVENTS_PAGE_SIZE = 50
#: Random bytes of a generated external-API token (43 URL-safe characters).
TOKEN_BYTES = 32
#: The shortest external-API token a client may choose.
MIN_TOKEN_LENGTH = 32


def list_connections(company_id: int) -> list[Whatsapp]:
    """The company's connections ordered by id."""
    return list(
        db.session.scalars(
            sa.select(Whatsapp).where(Whatsapp.company_id == company_id).order_by(Whatsapp.id)
        )
    )


def get_connection(company_id: int, whatsapp_id: int) -> Whatsapp:
    """A connection of the company; another company's is 404 like a missing one."""
    return get_owned(Whatsapp, whatsapp_id, company_id, "ERR_NO_WAPP_FOUND")


def by_token(token: str) -> Whatsapp | None:
    """The connection whose external-API token this is (None for an empty or unknown one).

    Looked up by the token's SHA-256: exact, so case matters on MariaDB too.
    """
    if not token:
        return None
    return db.session.scalar(sa.select(Whatsapp).where(Whatsapp.token_hash == digest(token)))


def default_connection(company_id: int) -> Whatsapp:
    """The company's default connection (400 ERR_NO_DEF_WAPP_FOUND when it has none)."""
    conn = db.session.scalar(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.is_default.is_(True))
        .order_by(Whatsapp.id)
        .limit(1)
    )
    if conn is None:
        raise AppError("ERR_NO_DEF_WAPP_FOUND", 400)
    return conn


def list_events(
    company_id: int, whatsapp_id: int, page_number: int = 1
) -> tuple[list[ConnectionEvent], int, bool]:
    """A page of the connection's health timeline, newest first: (events, count, has_more)."""
    conn = get_connection(company_id, whatsapp_id)
    where = (ConnectionEvent.whatsapp_id == conn.id, ConnectionEvent.company_id == company_id)
    count = db.session.scalar(sa.select(sa.func.count(ConnectionEvent.id)).where(*where)) or 0
    offset = (max(page_number, 1) - 1) * EVENTS_PAGE_SIZE
    rows = list(
        db.session.scalars(
            sa.select(ConnectionEvent)
            .where(*where)
            .order_by(ConnectionEvent.created_at.desc(), ConnectionEvent.id.desc())
            .limit(EVENTS_PAGE_SIZE)
            .offset(offset)
        )
    )
    return rows, count, count > offset + len(rows)


def enforce_connection_limit(company_id: int) -> None:
    """400 ERR_CONNECTION_LIMIT_REACHED when the plan has no room for another connection."""
    plan_service.enforce_limit(company_id, Whatsapp, "connections", "ERR_CONNECTION_LIMIT_REACHED")


def _invalid(field: str, message: str) -> AppError:
    return AppError("ERR_VALIDATION", 400, {field: [message]})


def _queues(company_id: int, queue_ids: list[int]) -> list[Queue]:
    """The company's queues with these ids, in the order given (400 for any other id)."""
    ids = list(dict.fromkeys(queue_ids))
    if not ids:
        return []
    found = {
        q.id: q
        for q in db.session.scalars(
            sa.select(Queue).where(Queue.company_id == company_id, Queue.id.in_(ids))
        )
    }
    if len(found) != len(ids):
        raise _invalid("queueIds", "Unknown queue.")
    return [found[i] for i in ids]


def _check_transfer_queue(company_id: int, queue_id: int | None) -> None:
    if queue_id is None:
        return
    if find_owned(Queue, queue_id, company_id) is None:
        raise _invalid("transferQueueId", "Unknown queue.")


def _token(value: str | None, exclude_id: int | None) -> str:
    """The external-API token: a fresh random one when none is given, else the given one
    (at least MIN_TOKEN_LENGTH characters, and free)."""
    token = (value or "").strip()
    if not token:
        return secrets.token_urlsafe(TOKEN_BYTES)
    if len(token) < MIN_TOKEN_LENGTH:
        raise _invalid("token", f"At least {MIN_TOKEN_LENGTH} characters.")
    where = (Whatsapp.id != exclude_id,) if exclude_id is not None else ()
    taken = db.session.scalar(
        sa.select(Whatsapp.id).where(Whatsapp.token_hash == digest(token), *where)
    )
    if taken is not None:
        # The generic conflict, never "that token is in use": that would confirm a
        # secret of another connection (maybe another company's) to whoever typed it.
        raise AppError("ERR_CONFLICT", 409)
    return token


def _unset_other_defaults(company_id: int, keep_id: int) -> list[Whatsapp]:
    """Clear is_default on the company's other connections; return those changed."""
    others = list(
        db.session.scalars(
            sa.select(Whatsapp).where(
                Whatsapp.company_id == company_id,
                Whatsapp.is_default.is_(True),
                Whatsapp.id != keep_id,
            )
        )
    )
    for other in others:
        other.is_default = False
    return others


def claim_account(conn: Whatsapp) -> None:
    """Make `conn` the one connection its provider account belongs to.

    Called once the connection's own credentials opened a session with the provider,
    which proves the account is its tenant's: another connection (of any company) that
    merely typed the same id loses nothing it owned, and takes nothing from this one.
    """
    if not conn.provider_account_id:
        return
    claim = f"{conn.provider}:{conn.provider_account_id}"[:130]
    if conn.account_claim == claim:
        return
    db.session.execute(
        sa.update(Whatsapp)
        .where(Whatsapp.account_claim == claim, Whatsapp.id != conn.id)
        .values(account_claim=None)
        .execution_options(synchronize_session=False)
    )
    conn.account_claim = claim


def _greeting_rule(conn: Whatsapp) -> None:
    """Several queues need a greeting (it lists them to the customer)."""
    if len(conn.queues) > 1 and not (conn.greeting_message or "").strip():
        raise _invalid("greetingMessage", "Required when the connection has several queues.")


def _emit(conn: Whatsapp) -> None:
    emit_to_company(conn.company_id, "whatsapp", {"action": "update", "whatsapp": payload(conn)})


def _finish_write(conn: Whatsapp) -> None:
    """Flush, keep one default per company, and emit the changed rows."""
    db.session.flush()
    changed = _unset_other_defaults(conn.company_id, conn.id) if conn.is_default else []
    db.session.flush()
    for other in changed:
        _emit(other)
    _emit(conn)


def create_connection(company_id: int, data: dict[str, Any]) -> Whatsapp:
    """Create a connection (plan limit, unique name per company, one default per company)."""
    check_provider_name(data.get("provider"))
    enforce_connection_limit(company_id)
    provider = resolve_provider(data.get("provider"))
    config = clean_provider_config(provider, data.get("provider_config"))
    name = data["name"].strip()
    if value_taken(Whatsapp.name, name, where=(Whatsapp.company_id == company_id,)):
        raise AppError("ERR_DUPLICATED_WAPP_NAME", 400)
    _check_transfer_queue(company_id, data.get("transfer_queue_id"))
    integration_id = company_integration_id(company_id, data.get("integration_id"), "integrationId")
    prompt_id = company_prompt_id(company_id, data.get("prompt_id"), "promptId")
    first = not db.session.scalar(
        sa.select(Whatsapp.id).where(Whatsapp.company_id == company_id).limit(1)
    )
    conn = Whatsapp(
        company_id=company_id,
        name=name,
        # The fake has no QR code to scan: it is usable right away.
        status="CONNECTED" if provider == "fake" else "DISCONNECTED",
        is_default=bool(data.get("is_default")) or first,
        transfer_queue_id=data.get("transfer_queue_id"),
        integration_id=integration_id,
        prompt_id=prompt_id,
        token=_token(data.get("token"), None),
        **{key: data.get(key) for key in _MESSAGE_FIELDS},
        **{
            key: default if data.get(key) is None else data[key]
            for key, default in _NUMBER_FIELDS.items()
        },
    )
    apply_config(conn, provider, config)
    conn.queues = _queues(company_id, data.get("queue_ids") or [])
    _greeting_rule(conn)
    db.session.add(conn)
    _finish_write(conn)
    if provider == "evolution":
        # Creating an Evolution connection registers our webhook URL with the bridge.
        jobs.enqueue("sessions.start_session", company_id, conn.id)
    return conn


def update_connection(company_id: int, whatsapp_id: int, data: dict[str, Any]) -> Whatsapp:
    """Update the fields present; masked secrets keep their stored values."""
    check_provider_name(data.get("provider"))
    conn = get_connection(company_id, whatsapp_id)
    if "name" in data and data["name"].strip() != conn.name:
        name = data["name"].strip()
        if value_taken(
            Whatsapp.name,
            name,
            where=(Whatsapp.company_id == company_id, Whatsapp.id != conn.id),
        ):
            raise AppError("ERR_DUPLICATED_WAPP_NAME", 400)
        conn.name = name
    provider = updated_provider(conn.provider, data.get("provider"))
    if provider != conn.provider or "provider_config" in data:
        stored = provider_config(conn) if provider == conn.provider else {}
        raw = data.get("provider_config") if "provider_config" in data else stored
        apply_config(conn, provider, clean_provider_config(provider, raw, stored))
    for key in _MESSAGE_FIELDS:
        if key in data:
            setattr(conn, key, data[key])
    for key, default in _NUMBER_FIELDS.items():
        if key in data:
            setattr(conn, key, default if data[key] is None else data[key])
    if "transfer_queue_id" in data:
        _check_transfer_queue(company_id, data["transfer_queue_id"])
        conn.transfer_queue_id = data["transfer_queue_id"]
    if "integration_id" in data:
        conn.integration_id = company_integration_id(
            company_id, data["integration_id"], "integrationId"
        )
    if "prompt_id" in data:
        conn.prompt_id = company_prompt_id(company_id, data["prompt_id"], "promptId")
    if "queue_ids" in data:
        conn.queues = _queues(company_id, data["queue_ids"] or [])
    if "token" in data:
        given = (data["token"] or "").strip()
        # The modal sends back the token it showed: unchanged, even a short legacy one.
        # An empty field asks for a new random token (how an admin rotates it).
        if not given or given != conn.token:
            conn.token = _token(given, conn.id)
    # isDefault false is ignored: the company must always keep one default connection,
    # which changes only when another one is made the default.
    if data.get("is_default"):
        conn.is_default = True
    _greeting_rule(conn)
    _finish_write(conn)
    return conn


def delete_connection(company_id: int, whatsapp_id: int) -> None:
    """Delete the row after stopping its session (best effort); tickets keep their history."""
    conn = get_connection(company_id, whatsapp_id)
    try:
        gateway_for(conn).stop_session(conn)
    except GatewayError as exc:  # an unreachable provider must not keep the row alive
        current_app.logger.info("stopping session of connection %s failed: %s", conn.id, exc)
    was_default = conn.is_default
    db.session.delete(conn)
    db.session.flush()
    emit_to_company(company_id, "whatsapp", {"action": "delete", "whatsappId": whatsapp_id})
    if was_default:
        # Keep "one default per company": the oldest remaining connection takes over.
        successor = db.session.scalar(
            sa.select(Whatsapp)
            .where(Whatsapp.company_id == company_id)
            .order_by(Whatsapp.id)
            .limit(1)
        )
        if successor is not None:
            successor.is_default = True
            db.session.flush()
            _emit(successor)


def payload(conn: Whatsapp) -> dict[str, Any]:
    """The connection as events carry it (the `GET /whatsapp` row, secrets masked)."""
    return WhatsappSchema().dump(conn)
