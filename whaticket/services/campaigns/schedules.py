"""Scheduled messages: CRUD with owner/admin rules, the attachment, arming, and events.

Lifecycle: PENDENTE (waiting) -> AGENDADA (claimed by one sender) -> ENVIADA or ERRO. A job
is armed for `send_at` whenever a schedule is created or its time changes; the send itself
(claim, deliver, mark) is in `schedule_delivery`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket import jobs
from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, Schedule, Ticket, User, Whatsapp
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.schemas.schedules import ScheduledMessageSchema
from whaticket.services.platform import media
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import find_owned, get_owned

PENDENTE, AGENDADA, ENVIADA, ERRO = "PENDENTE", "AGENDADA", "ENVIADA", "ERRO"
#: Where schedule attachments are stored, under MEDIA_ROOT/<company_id>/.
MEDIA_SUBDIR = "schedules"


def list_schedules(
    company_id: int,
    actor: User,
    search: str,
    page_number: int,
    contact_id: int | None = None,
    user_id: int | None = None,
) -> tuple[list[Schedule], int, bool]:
    """A page (20) by send time: an admin's whole company, an agent's own schedules only."""
    stmt = (
        sa.select(Schedule)
        .join(Contact, Contact.id == Schedule.contact_id)
        .where(Schedule.company_id == company_id)
        .order_by(Schedule.send_at, Schedule.id)
    )
    if not actor.is_admin:
        # An agent's userId is ignored: they only ever see what they scheduled.
        stmt = stmt.where(Schedule.user_id == actor.id)
    elif user_id is not None:
        stmt = stmt.where(Schedule.user_id == user_id)
    if contact_id is not None:
        stmt = stmt.where(Schedule.contact_id == contact_id)
    if search:
        stmt = stmt.where(search_filter(search, Schedule.body, Contact.name))
    return paginate(stmt, page_number)


def get_schedule(company_id: int, schedule_id: int, actor: User) -> Schedule:
    """A schedule the caller may see; another company's, or a colleague's for an agent, is 404."""
    record = get_owned(Schedule, schedule_id, company_id, "ERR_NO_SCHEDULE_FOUND")
    if not actor.is_admin and record.user_id != actor.id:
        # As in the list: someone else's schedule does not exist for an agent.
        raise AppError("ERR_NO_SCHEDULE_FOUND", 404)
    return record


def _bad(field: str, text: str) -> AppError:
    return AppError("ERR_VALIDATION", 400, {field: [text]})


def _company_row(company_id: int, model: Any, row_id: int, field: str, label: str) -> Any:
    """A row of the company by id; any other id is 400 with `field` (never 404: it is input)."""
    row = find_owned(model, row_id, company_id)
    if row is None:
        raise _bad(field, f"Unknown {label}.")
    return row


def _owner_id(company_id: int, actor: User, user_id: int | None) -> int:
    """Whose schedule it is: the caller by default; another user only when an admin says so."""
    if user_id is None or user_id == actor.id:
        return actor.id
    _company_row(company_id, User, user_id, "userId", "user")
    if not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    return user_id


def _check_future(send_at: datetime, now: datetime) -> None:
    if send_at <= now:
        raise _bad("sendAt", "Must be in the future.")


def _to_millis(send_at: datetime) -> datetime:
    """Whole milliseconds, as the API shows it: a sendAt sent back unchanged is unchanged."""
    return send_at.replace(microsecond=send_at.microsecond // 1000 * 1000)


def _check_links(company_id: int, data: dict[str, Any], contact_id: int) -> None:
    """Ticket and connection of the company; a ticket must be the contact's."""
    if data.get("ticket_id") is not None:
        ticket = _company_row(company_id, Ticket, data["ticket_id"], "ticketId", "ticket")
        if ticket.contact_id != contact_id:
            raise _bad("ticketId", "The ticket belongs to another contact.")
    if data.get("whatsapp_id") is not None:
        _company_row(company_id, Whatsapp, data["whatsapp_id"], "whatsappId", "connection")


def create_schedule(
    company_id: int, data: dict[str, Any], *, actor: User, now: datetime | None = None
) -> Schedule:
    """Create a PENDENTE schedule (sendAt in the future) and arm its send."""
    _check_future(data["send_at"], now or utcnow())
    contact = _company_row(company_id, Contact, data["contact_id"], "contactId", "contact")
    _check_links(company_id, data, contact.id)
    record = Schedule(
        company_id=company_id,
        body=data["body"],
        send_at=_to_millis(data["send_at"]),
        status=PENDENTE,
        contact_id=contact.id,
        ticket_id=data.get("ticket_id"),
        user_id=_owner_id(company_id, actor, data.get("user_id")),
        whatsapp_id=data.get("whatsapp_id"),
    )
    db.session.add(record)
    db.session.flush()
    arm(record)
    emit_change(company_id, {"action": "create", "schedule": payload(record)})
    return record


def _check_editable(record: Schedule) -> None:
    """Only a waiting or failed schedule changes; a sent one is history."""
    if record.status == ENVIADA:
        raise AppError("ERR_SCHEDULE_ALREADY_SENT", 400)
    if record.status == AGENDADA:
        raise AppError("ERR_SCHEDULE_IN_PROGRESS", 400)


def update_schedule(
    company_id: int,
    schedule_id: int,
    data: dict[str, Any],
    *,
    actor: User,
    now: datetime | None = None,
) -> Schedule:
    """Edit a PENDENTE or ERRO schedule (owner or admin); a new sendAt or an ERRO re-arms it."""
    record = get_schedule(company_id, schedule_id, actor)
    _check_editable(record)
    if data.get("send_at") is not None:
        _check_future(data["send_at"], now or utcnow())
    contact_id = record.contact_id
    if data.get("contact_id") is not None:
        contact_id = _company_row(
            company_id, Contact, data["contact_id"], "contactId", "contact"
        ).id
    links = {"ticket_id": record.ticket_id, "whatsapp_id": record.whatsapp_id}
    links.update({k: data[k] for k in ("ticket_id", "whatsapp_id") if k in data})
    if contact_id != record.contact_id and "ticket_id" not in data:
        links["ticket_id"] = None  # the old contact's ticket cannot carry the new contact
    _check_links(company_id, links, contact_id)
    user_id = record.user_id
    if data.get("user_id") is not None:
        user_id = _owner_id(company_id, actor, data["user_id"])

    old_send_at, old_status = record.send_at, record.status
    if data.get("body") is not None:
        record.body = data["body"]
    if data.get("send_at") is not None:
        record.send_at = _to_millis(data["send_at"])
    record.contact_id, record.user_id = contact_id, user_id
    record.ticket_id, record.whatsapp_id = links["ticket_id"], links["whatsapp_id"]
    if old_status == ERRO:
        # Editing a failed schedule is how it is tried again.
        record.status, record.error, record.sent_at, record.message_id = PENDENTE, None, None, None
    db.session.flush()
    db.session.expire(record, ["contact", "user"])  # reloaded for the answer and the event
    if record.send_at != old_send_at or old_status == ERRO:
        # The job armed for the old time finds another send_at and does nothing.
        arm(record)
    emit_change(company_id, {"action": "update", "schedule": payload(record)})
    return record


def delete_schedule(company_id: int, schedule_id: int, *, actor: User) -> None:
    """Delete a schedule (owner or admin) and, after the commit, its attachment."""
    record = get_schedule(company_id, schedule_id, actor)
    old = record.media_path
    db.session.delete(record)
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    emit_change(company_id, {"action": "delete", "scheduleId": schedule_id})


def set_schedule_media(
    company_id: int,
    schedule_id: int,
    data: bytes,
    filename: str | None,
    mimetype: str | None,
    *,
    actor: User,
) -> Schedule:
    """Attach a file sent with the message (replacing the old one, deleted after commit)."""
    record = get_schedule(company_id, schedule_id, actor)
    _check_editable(record)
    media.replace(record, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    emit_change(company_id, {"action": "update", "schedule": payload(record)})
    return record


def clear_schedule_media(company_id: int, schedule_id: int, *, actor: User) -> Schedule:
    """Remove the attachment (the file goes once the change commits)."""
    record = get_schedule(company_id, schedule_id, actor)
    _check_editable(record)
    old = record.media_path
    record.media_path = record.media_name = None
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    emit_change(company_id, {"action": "update", "schedule": payload(record)})
    return record


def stamp(send_at: datetime) -> str:
    """`send_at` as the ISO text a job carries (UTC, microseconds kept)."""
    return send_at.isoformat()


def job_id(schedule_id: int, send_at: datetime) -> str:
    """The send job's id: one per (schedule, send time), so a re-armed time is a new job."""
    return f"schedule-{schedule_id}-{send_at:%Y%m%d%H%M%S%f}"


def arm(record: Schedule) -> None:
    """Enqueue the send for `send_at`, once the transaction commits."""
    jobs.enqueue(
        "schedules.send_schedule",
        record.id,
        stamp(record.send_at),
        at=record.send_at,
        job_id=job_id(record.id, record.send_at),
    )


def event_name(company_id: int) -> str:
    """The name the SaaS frontend listens for: no dash after "company" (its server differs)."""
    return f"company{company_id}-schedule"


def emit_change(company_id: int, data: dict[str, Any]) -> None:
    """To the company's mainchannel, after the commit."""
    emit(event_name(company_id), data, rooms.mainchannel(company_id))


def payload(record: Schedule) -> dict[str, Any]:
    """The schedule as events carry it (the API row shape)."""
    return ScheduledMessageSchema().dump(record)
