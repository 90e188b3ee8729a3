"""The send of a due schedule: claim it once, deliver it into the contact's ticket, mark it.

Whoever moves the row PENDENTE -> AGENDADA first (one atomic UPDATE) is the only one that
sends it; the job commits the claim before the provider is called (jobs/schedules.py). A
periodic sweep sends whatever is still PENDENTE past its time, in case its job was lost.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Schedule, Ticket, Whatsapp
from whaticket.models.message import ACK_ERROR
from whaticket.services.campaigns.schedules import (
    AGENDADA,
    ENVIADA,
    ERRO,
    PENDENTE,
    emit_change,
    payload,
)
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.messages import outbound as message_out
from whaticket.services.platform import media
from whaticket.services.tickets.lookup import find_or_create_quiet
from whaticket.whatsapp.base import GatewayError

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
        emit_change(record.company_id, {"action": "update", "schedule": payload(record)})
    return True


def still_sending(schedule_id: int, armed_for: datetime | None) -> bool:
    """A retry goes on only while the schedule stays AGENDADA for the same send time."""
    record = db.session.get(Schedule, schedule_id, populate_existing=True)
    if record is None or record.status != AGENDADA:
        return False
    return armed_for is None or record.send_at == armed_for


def connection_for(record: Schedule) -> Whatsapp:
    """The schedule's connection, else its ticket's, else the company default."""
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
    ticket_id, _, _ = find_or_create_quiet(
        record.company_id, conn.id, record.contact_id, is_group=bool(record.contact.is_group)
    )
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


def _attachment(record: Schedule) -> tuple[bytes, str, str]:
    """The attachment's bytes, name and type; a vanished file fails the send."""
    try:
        path = media.absolute_path(record.company_id, record.media_path or "")
    except AppError as exc:
        raise ScheduleSendError("ERR_SCHEDULE_MEDIA_MISSING") from exc
    data = path.read_bytes()
    name = record.media_name or path.name
    declared = mimetypes.guess_type(name)[0]
    return data, name, media.detect_mimetype(data, declared)


def prepare(schedule_id: int) -> list[int] | None:
    """Queue a claimed schedule's message(s) in the contact's ticket (no commit, no send).

    Returns the queued message ids (None when the schedule vanished or is not claimed);
    raises ScheduleSendError when it cannot be sent at all. The job commits, sends the
    ids through the outbox, then calls `finish`: no transaction stays open while the
    provider answers.
    """
    record = db.session.get(Schedule, schedule_id)
    if record is None or record.status != AGENDADA:
        return None
    try:
        conn = connection_for(record)
        ticket = ticket_for(record, conn)
        text = message_out.render_for(ticket, record.body)
        if record.media_path:
            queued = message_out.queue_media(
                ticket, [_attachment(record)], [text], origin=ORIGIN, autosend=False
            )
        else:
            queued = [message_out.queue_text(ticket, text, origin=ORIGIN, autosend=False)]
    except ScheduleSendError:
        raise
    except AppError as exc:  # no connection, media over the limits: trying again will not help
        raise ScheduleSendError(exc.code) from exc
    record.ticket_id = ticket.id
    record.whatsapp_id = record.whatsapp_id or conn.id
    db.session.flush()
    return [message.id for message in queued]


def finish(schedule_id: int, message_ids: list[int], error: GatewayError | None) -> None:
    """After the sends: ENVIADA, or ScheduleSendError carrying the provider's verdict."""
    if error is None:
        record = db.session.get(Schedule, schedule_id)
        message = db.session.get(Message, message_ids[0]) if message_ids else None
        if record is not None and message is not None:
            mark_sent(record, message)
        return
    failed = db.session.scalar(
        sa.select(Message.id)
        .where(Message.id.in_(message_ids), Message.ack == ACK_ERROR)
        .order_by(Message.id)
        .limit(1)
    )
    raise ScheduleSendError(
        error.message,
        retryable=error.retryable,
        retry_after=error.retry_after,
        message_id=failed,
    )


def discard(message_ids: list[int]) -> None:
    """Forget an attempt's failed rows: the retry records its own message."""
    if message_ids:
        db.session.execute(
            sa.delete(Message)
            .where(Message.id.in_(message_ids))
            .execution_options(synchronize_session=False)
        )


def mark_sent(record: Schedule, message: Message) -> None:
    """ENVIADA, with the send time and the message it became."""
    record.status = ENVIADA
    record.sent_at = utcnow()
    record.message_id = message.id
    record.error = None
    db.session.flush()
    emit_change(record.company_id, {"action": "update", "schedule": payload(record)})


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
    emit_change(record.company_id, {"action": "update", "schedule": payload(record)})
