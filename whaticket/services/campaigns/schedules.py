"""Scheduled messages: CRUD with owner/admin rules, the attachment, and the send at `send_at`.

Lifecycle: PENDENTE (waiting) -> AGENDADA (claimed by one sender) -> ENVIADA or ERRO. A job
is armed for `send_at` whenever a schedule is created or its time changes; a periodic sweep
sends whatever is still PENDENTE past its time, in case that job was lost. Whoever moves the
row PENDENTE -> AGENDADA first (one atomic UPDATE) is the only one that sends it.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, Message, Schedule, Ticket, User, Whatsapp
from whaticket.models.message import ACK_ERROR
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.utils.pagination import paginate, search_filter

PENDENTE, AGENDADA, ENVIADA, ERRO = "PENDENTE", "AGENDADA", "ENVIADA", "ERRO"
#: Where schedule attachments are stored, under MEDIA_ROOT/<company_id>/.
MEDIA_SUBDIR = "schedules"
#: Message.origin of what a schedule sends.
ORIGIN = "schedule"


class ScheduleSendError(AppError):
    """A send that did not happen: why, whether trying later may help, the failed row."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        message_id: int | None = None,
    ) -> None:
        super().__init__("ERR_SCHEDULE_SEND_FAILED", 502)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        #: The failed outbound row recorded in the ticket history, when the provider refused.
        self.message_id = message_id


# -- reading -------------------------------------------------------------------------


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
    record = db.session.get(Schedule, schedule_id)
    if record is None or record.company_id != company_id:
        raise AppError("ERR_NO_SCHEDULE_FOUND", 404)
    if not actor.is_admin and record.user_id != actor.id:
        # As in the list: someone else's schedule does not exist for an agent.
        raise AppError("ERR_NO_SCHEDULE_FOUND", 404)
    return record


# -- writing -------------------------------------------------------------------------


def _bad(field: str, text: str) -> AppError:
    return AppError("ERR_VALIDATION", 400, {field: [text]})


def _company_row(company_id: int, model: Any, row_id: int, field: str, label: str) -> Any:
    """A row of the company by id; any other id is 400 with `field` (never 404: it is input)."""
    row = db.session.get(model, row_id)
    if row is None or row.company_id != company_id:
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
    _emit(company_id, {"action": "create", "schedule": payload(record)})
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
    _emit(company_id, {"action": "update", "schedule": payload(record)})
    return record


def delete_schedule(company_id: int, schedule_id: int, *, actor: User) -> None:
    """Delete a schedule (owner or admin) and, after the commit, its attachment."""
    record = get_schedule(company_id, schedule_id, actor)
    old = record.media_path
    db.session.delete(record)
    db.session.flush()
    if old:
        from whaticket.services.platform import media

        after_commit(lambda: media.delete(company_id, old))
    _emit(company_id, {"action": "delete", "scheduleId": schedule_id})


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
    from whaticket.services.platform import media

    record = get_schedule(company_id, schedule_id, actor)
    _check_editable(record)
    media.replace(record, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    _emit(company_id, {"action": "update", "schedule": payload(record)})
    return record


def clear_schedule_media(company_id: int, schedule_id: int, *, actor: User) -> Schedule:
    """Remove the attachment (the file goes once the change commits)."""
    from whaticket.services.platform import media

    record = get_schedule(company_id, schedule_id, actor)
    _check_editable(record)
    old = record.media_path
    record.media_path = record.media_name = None
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    _emit(company_id, {"action": "update", "schedule": payload(record)})
    return record


# -- arming and claiming -------------------------------------------------------------


def stamp(send_at: datetime) -> str:
    """`send_at` as the ISO text a job carries (UTC, microseconds kept)."""
    return send_at.isoformat()


def job_id(schedule_id: int, send_at: datetime) -> str:
    """The send job's id: one per (schedule, send time), so a re-armed time is a new job."""
    return f"schedule-{schedule_id}-{send_at:%Y%m%d%H%M%S%f}"


def arm(record: Schedule) -> None:
    """Enqueue the send for `send_at`, once the transaction commits."""
    from whaticket import jobs

    jobs.enqueue(
        "schedules.send_schedule",
        record.id,
        stamp(record.send_at),
        at=record.send_at,
        job_id=job_id(record.id, record.send_at),
    )


def due_ids(now: datetime, limit: int = 200) -> list[int]:
    """Ids of PENDENTE schedules whose time has come, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Schedule.id)
            .where(Schedule.status == PENDENTE, Schedule.send_at <= now)
            .order_by(Schedule.send_at, Schedule.id)
            .limit(limit)
        )
    )


def claim(
    schedule_id: int, *, armed_for: datetime | None = None, now: datetime | None = None
) -> bool:
    """Move one schedule PENDENTE -> AGENDADA atomically; True only for the one who did.

    `armed_for`: the job's send time (a re-armed schedule no longer matches it); without
    it (the sweep) the schedule must be due at `now`. The caller commits before sending.
    """
    stmt = sa.update(Schedule).where(Schedule.id == schedule_id, Schedule.status == PENDENTE)
    if armed_for is not None:
        stmt = stmt.where(Schedule.send_at == armed_for)
    else:
        stmt = stmt.where(Schedule.send_at <= (now or utcnow()))
    result = db.session.execute(
        stmt.values(status=AGENDADA, error=None, updated_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount != 1:
        return False
    record = db.session.get(Schedule, schedule_id, populate_existing=True)
    if record is not None:
        _emit(record.company_id, {"action": "update", "schedule": payload(record)})
    return True


def still_sending(schedule_id: int, armed_for: datetime | None) -> bool:
    """A retry goes on only while the schedule stays AGENDADA for the same send time."""
    record = db.session.get(Schedule, schedule_id, populate_existing=True)
    if record is None or record.status != AGENDADA:
        return False
    return armed_for is None or record.send_at == armed_for


# -- sending -------------------------------------------------------------------------


def connection_for(record: Schedule) -> Whatsapp:
    """The schedule's connection, else its ticket's, else the company default."""
    from whaticket.services.connections import whatsapps as whatsapp_service

    for conn_id in (record.whatsapp_id, _ticket_connection_id(record)):
        if conn_id is not None:
            conn = db.session.get(Whatsapp, conn_id)
            if conn is not None and conn.company_id == record.company_id:
                return conn
    return whatsapp_service.default_connection(record.company_id)


def _ticket_connection_id(record: Schedule) -> int | None:
    if record.ticket_id is None:
        return None
    ticket = db.session.get(Ticket, record.ticket_id)
    return ticket.whatsapp_id if ticket is not None else None


def ticket_for(record: Schedule, conn: Whatsapp) -> Ticket:
    """The contact's one ticket on the connection; a new one is created closed.

    The message belongs in the contact's history, but a scheduled send is not a
    conversation anyone has to answer: a ticket that did not exist stays out of the queues.
    """
    from whaticket.services.tickets.lifecycle import find_or_create_quiet

    ticket_id, _, _ = find_or_create_quiet(
        record.company_id, conn.id, record.contact_id, is_group=bool(record.contact.is_group)
    )
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


def _attachment(record: Schedule) -> tuple[bytes, str, str]:
    """The attachment's bytes, name and type; a vanished file fails the send."""
    from whaticket.services.platform import media

    try:
        path = media.absolute_path(record.company_id, record.media_path or "")
    except AppError as exc:
        raise ScheduleSendError("ERR_SCHEDULE_MEDIA_MISSING") from exc
    data = path.read_bytes()
    name = record.media_name or path.name
    declared = mimetypes.guess_type(name)[0]
    return data, name, media.detect_mimetype(data, declared)


def deliver(schedule_id: int) -> Message | None:
    """Send a claimed schedule and record it in the contact's ticket (no commit).

    Returns the sent message (None when the schedule vanished); raises ScheduleSendError.
    """
    from whaticket.services.messages import outbound as message_out
    from whaticket.whatsapp.base import GatewayError

    record = db.session.get(Schedule, schedule_id)
    if record is None or record.status != AGENDADA:
        return None
    ticket: Ticket | None = None
    try:
        conn = connection_for(record)
        ticket = ticket_for(record, conn)
        text = message_out.render_for(ticket, record.body)
        if record.media_path:
            files = [_attachment(record)]
            message = message_out.deliver_media(ticket, files, [text], origin=ORIGIN)[0]
        else:
            message = message_out.deliver_text(ticket, text, origin=ORIGIN)
    except message_out.SendFailedError as exc:
        cause = exc.__cause__
        retryable = isinstance(cause, GatewayError) and cause.retryable
        retry_after = cause.retry_after if isinstance(cause, GatewayError) else None
        failed = _last_failed(ticket) if ticket is not None else None
        raise ScheduleSendError(
            exc.reason,
            retryable=retryable,
            retry_after=retry_after,
            message_id=failed.id if failed else None,
        ) from exc
    except ScheduleSendError:
        raise
    except AppError as exc:  # no connection, media over the limits: trying again will not help
        raise ScheduleSendError(exc.code) from exc
    record.ticket_id = ticket.id
    record.whatsapp_id = record.whatsapp_id or conn.id
    mark_sent(record, message)
    return message


def _last_failed(ticket: Ticket) -> Message | None:
    """The failed outbound row the refused send left on the ticket."""
    return db.session.scalar(
        sa.select(Message)
        .where(Message.ticket_id == ticket.id, Message.origin == ORIGIN, Message.ack == ACK_ERROR)
        .order_by(Message.id.desc())
        .limit(1)
    )


def mark_sent(record: Schedule, message: Message) -> None:
    """ENVIADA, with the send time and the message it became."""
    record.status = ENVIADA
    record.sent_at = utcnow()
    record.message_id = message.id
    record.error = None
    db.session.flush()
    _emit(record.company_id, {"action": "update", "schedule": payload(record)})


def note_retry(schedule_id: int, reason: str) -> bool:
    """A retryable failure: stay AGENDADA with the reason shown; False when the row is gone."""
    record = db.session.get(Schedule, schedule_id)
    if record is None:
        return False
    record.error = reason[:500]
    db.session.flush()
    return True


def mark_failed(schedule_id: int, reason: str, message_id: int | None = None) -> None:
    """ERRO with the reason (and the failed message row, kept in the ticket history)."""
    record = db.session.get(Schedule, schedule_id)
    if record is None:
        return
    record.status = ERRO
    record.error = reason[:500]
    if message_id is not None:
        record.message_id = message_id
        message = db.session.get(Message, message_id)
        if message is not None:
            record.ticket_id = message.ticket_id
    db.session.flush()
    _emit(record.company_id, {"action": "update", "schedule": payload(record)})


# -- events --------------------------------------------------------------------------


def event_name(company_id: int) -> str:
    """The name the SaaS frontend listens for: no dash after "company" (its server differs)."""
    return f"company{company_id}-schedule"


def _emit(company_id: int, data: dict[str, Any]) -> None:
    """To the company's mainchannel, after the commit."""
    emit(event_name(company_id), data, rooms.mainchannel(company_id))


def payload(record: Schedule) -> dict[str, Any]:
    """The schedule as events carry it (the API row shape)."""
    from whaticket.schemas.schedules import ScheduledMessageSchema

    return ScheduledMessageSchema().dump(record)
