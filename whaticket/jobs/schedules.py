"""Scheduled message jobs: the send armed for `send_at` and the sweep of overdue ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.jobs import outbound as outbound_jobs
from whaticket.services.campaigns import schedule_delivery as delivery
from whaticket.services.campaigns import schedules as schedule_service

#: Seconds before retry n of a retryable failure (disconnected session, rate limit);
#: after the last one the schedule is ERRO.
BACKOFF = (30, 120, 600)


def send_schedule(schedule_id: int, armed_for: str | None = None, attempt: int = 1) -> str:
    """Job: send one schedule exactly once; answer what happened (for logs and tests).

    `armed_for` is the send time the job was armed for (ISO); a schedule re-armed for
    another time, already claimed or deleted makes this run a no-op. Retries (attempt > 1)
    continue a send this job chain already claimed.
    """
    send_at = datetime.fromisoformat(armed_for) if armed_for else None
    if attempt == 1:
        claimed = delivery.claim(schedule_id, armed_for=send_at)
    else:
        claimed = delivery.still_sending(schedule_id, send_at)
    if not claimed:
        dbmod.rollback()
        return "skipped"
    # The claim is committed before the provider is called: a second sender now finds
    # AGENDADA and backs off, whatever happens next.
    dbmod.commit()
    return _deliver(schedule_id, armed_for, attempt)


def _deliver(schedule_id: int, armed_for: str | None, attempt: int) -> str:
    """Send the claimed schedule; record ENVIADA, a retry, or ERRO, and commit.

    Prepare (queue the message rows) and commit, send them through the outbox (each
    send commits its own answer), then record the verdict: no transaction is open while
    the provider answers.
    """
    try:
        message_ids = delivery.prepare(schedule_id)
    except delivery.ScheduleSendError as exc:
        dbmod.rollback()
        delivery.mark_failed(schedule_id, exc.reason)
        dbmod.commit()
        return "failed"
    except Exception:
        return _crashed(schedule_id)
    if message_ids is None:
        dbmod.rollback()
        return "skipped"
    dbmod.commit()
    try:
        outcomes = [outbound_jobs.send(message_id) for message_id in message_ids]
        error = next((o.error for o in outcomes if o is not None and o.error), None)
        delivery.finish(schedule_id, message_ids, error)
    except delivery.ScheduleSendError as exc:
        dbmod.rollback()
        if exc.retryable and attempt <= len(BACKOFF):
            # Nothing of this attempt is kept: the next one records its own message.
            delivery.discard(message_ids)
            if delivery.note_retry(schedule_id, exc.reason):
                delay = max(BACKOFF[attempt - 1], exc.retry_after or 0)
                _retry_later(schedule_id, armed_for, attempt + 1, delay)
            dbmod.commit()
            return "retry"
        # A provider refusal keeps its failed message row in the ticket history.
        delivery.mark_failed(schedule_id, exc.reason, exc.message_id)
        dbmod.commit()
        return "failed"
    except Exception:
        return _crashed(schedule_id)
    dbmod.commit()
    return "sent"


def _crashed(schedule_id: int) -> str:
    """Never leave a claimed schedule AGENDADA forever: it is shown as failed instead."""
    current_app.logger.exception("schedule %s: send crashed", schedule_id)
    dbmod.rollback()
    delivery.mark_failed(schedule_id, "ERR_INTERNAL")
    dbmod.commit()
    return "failed"


def _retry_later(schedule_id: int, armed_for: str | None, attempt: int, delay: float) -> None:
    """Enqueue attempt `attempt` after `delay` seconds (after the commit)."""
    at = utcnow() + timedelta(seconds=delay)
    if armed_for:
        base = schedule_service.job_id(schedule_id, datetime.fromisoformat(armed_for))
    else:
        base = f"schedule-{schedule_id}-sweep"
    # RQ job ids allow letters, digits, "_" and "-" only.
    jobs.enqueue(send_schedule, schedule_id, armed_for, attempt, at=at, job_id=f"{base}-r{attempt}")


def send_due_schedules(now: datetime | None = None) -> int:
    """Periodic sweep: send every PENDENTE schedule past its time; return how many were sent.

    A safety net for delayed jobs that were lost (a Redis flush, a worker down at the time):
    the claim makes it harmless when the job fires as well.
    """
    now = now or utcnow()
    ids = delivery.due_ids(now)
    dbmod.rollback()  # a read only: end it before the sends open their own transactions
    sent = 0
    for schedule_id in ids:
        if not delivery.claim(schedule_id, now=now):
            dbmod.rollback()
            continue
        dbmod.commit()
        if _deliver(schedule_id, None, 1) == "sent":
            sent += 1
    return sent
