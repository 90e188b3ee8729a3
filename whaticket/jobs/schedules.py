"""Scheduled message jobs: the send armed for `send_at` and the sweep of overdue ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
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
        claimed = schedule_service.claim(schedule_id, armed_for=send_at)
    else:
        claimed = schedule_service.still_sending(schedule_id, send_at)
    if not claimed:
        dbmod.rollback()
        return "skipped"
    # The claim is committed before the provider is called: a second sender now finds
    # AGENDADA and backs off, whatever happens next.
    dbmod.commit()
    return _deliver(schedule_id, armed_for, attempt)


def _deliver(schedule_id: int, armed_for: str | None, attempt: int) -> str:
    """Send the claimed schedule; record ENVIADA, a retry, or ERRO, and commit."""
    try:
        message = schedule_service.deliver(schedule_id)
    except schedule_service.ScheduleSendError as exc:
        if exc.retryable and attempt <= len(BACKOFF):
            # Nothing of this attempt is kept: the next one records its own message.
            dbmod.rollback()
            if schedule_service.note_retry(schedule_id, exc.reason):
                delay = max(BACKOFF[attempt - 1], exc.retry_after or 0)
                _retry_later(schedule_id, armed_for, attempt + 1, delay)
            dbmod.commit()
            return "retry"
        if exc.message_id is None:
            dbmod.rollback()
        # A provider refusal keeps its failed message row in the ticket history.
        schedule_service.mark_failed(schedule_id, exc.reason, exc.message_id)
        dbmod.commit()
        return "failed"
    except Exception:
        # Never leave a claimed schedule AGENDADA forever: it is shown as failed instead.
        current_app.logger.exception("schedule %s: send crashed", schedule_id)
        dbmod.rollback()
        schedule_service.mark_failed(schedule_id, "ERR_INTERNAL")
        dbmod.commit()
        return "failed"
    dbmod.commit()
    return "sent" if message is not None else "skipped"


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
    ids = schedule_service.due_ids(now)
    dbmod.rollback()  # a read only: end it before the sends open their own transactions
    sent = 0
    for schedule_id in ids:
        if not schedule_service.claim(schedule_id, now=now):
            dbmod.rollback()
            continue
        dbmod.commit()
        if _deliver(schedule_id, None, 1) == "sent":
            sent += 1
    return sent
