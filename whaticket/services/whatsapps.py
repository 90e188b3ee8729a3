"""Connections (Whatsapp rows): list, show, create, the default one, the plan limit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Whatsapp
from whaticket.realtime.emit import emit_to_company
from whaticket.utils.queries import value_taken
from whaticket.whatsapp.registry import provider_names

#: Message fields copied from the create payload as they are.
_MESSAGE_FIELDS = (
    "greeting_message",
    "complation_message",
    "rating_message",
    "out_of_hours_message",
)


def list_connections(company_id: int) -> list[Whatsapp]:
    """The company's connections ordered by id."""
    return list(
        db.session.scalars(
            sa.select(Whatsapp).where(Whatsapp.company_id == company_id).order_by(Whatsapp.id)
        )
    )


def get_connection(company_id: int, whatsapp_id: int) -> Whatsapp:
    """A connection of the company; another company's is 404 like a missing one."""
    conn = db.session.get(Whatsapp, whatsapp_id)
    if conn is None or conn.company_id != company_id:
        raise AppError("ERR_NO_WAPP_FOUND", 404)
    return conn


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


def enforce_connection_limit(company_id: int) -> None:
    """400 ERR_CONNECTION_LIMIT_REACHED when the plan has no room for another connection."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise AppError("ERR_NO_COMPANY_FOUND", 404)
    if company.plan is None:
        return
    used = db.session.scalar(
        sa.select(sa.func.count(Whatsapp.id)).where(Whatsapp.company_id == company_id)
    )
    if (used or 0) >= company.plan.connections:
        raise AppError("ERR_CONNECTION_LIMIT_REACHED", 400)


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


def create_connection(company_id: int, data: dict[str, Any]) -> Whatsapp:
    """Create a connection (plan limit, unique name per company, one default per company)."""
    enforce_connection_limit(company_id)
    provider = data.get("provider") or "fake"
    if provider not in provider_names():
        raise AppError("ERR_VALIDATION", 400, {"provider": ["Unknown provider."]})
    name = data["name"].strip()
    if value_taken(Whatsapp.name, name, where=(Whatsapp.company_id == company_id,)):
        raise AppError("ERR_DUPLICATED_WAPP_NAME", 400)
    first = not db.session.scalar(
        sa.select(Whatsapp.id).where(Whatsapp.company_id == company_id).limit(1)
    )
    conn = Whatsapp(
        company_id=company_id,
        name=name,
        provider=provider,
        # The fake has no QR code to scan: it is usable right away.
        status="CONNECTED" if provider == "fake" else "DISCONNECTED",
        is_default=bool(data.get("is_default")) or first,
        **{key: data.get(key) for key in _MESSAGE_FIELDS},
    )
    db.session.add(conn)
    db.session.flush()
    changed = _unset_other_defaults(company_id, conn.id) if conn.is_default else []
    db.session.flush()
    for other in changed:
        emit_to_company(company_id, "whatsapp", {"action": "update", "whatsapp": payload(other)})
    emit_to_company(company_id, "whatsapp", {"action": "update", "whatsapp": payload(conn)})
    return conn


def payload(conn: Whatsapp) -> dict[str, Any]:
    """The connection as events carry it (the `GET /whatsapp` row)."""
    from whaticket.schemas.whatsapps import WhatsappSchema

    return WhatsappSchema().dump(conn)
