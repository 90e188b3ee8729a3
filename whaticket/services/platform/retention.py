"""Retention: what the purge deletes (old webhook deliveries, dead refresh tokens,
finished imports) and which media files no row references any more.

Plain reads and one-batch deletes: the caller (`jobs/retention`) commits between batches
and deletes files only after its reads are over, never inside a transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.extensions import db
from whaticket.models import ImportJob, InboundEvent, RefreshToken
from whaticket.services.platform import media

#: Top folders of a company's media whose files belong to rows (see `media_refs`). Others
#: (the fake gateway's outbox, anything unknown) are never swept.
SWEPT_SUBDIRS = frozenset(
    {
        "messages",
        "campaigns",
        "schedules",
        "queues",
        "queue-options",
        "quick-messages",
        "announcements",
        "file-lists",
        "imports",
    }
)


@dataclass(frozen=True)
class RowPurge:
    """Rows of `model` that `due(now)` selects are deleted."""

    name: str
    model: Any
    due: Callable[[datetime], Any]


def _days(key: str) -> timedelta:
    return timedelta(days=int(current_app.config[key]))


def _inbound_due(now: datetime) -> Any:
    """Applied deliveries past RETENTION_INBOUND_EVENTS_DAYS; failed ones past
    RETENTION_FAILED_INBOUND_EVENTS_DAYS (admins read why, and may retry them)."""
    when = sa.func.coalesce(InboundEvent.processed_at, InboundEvent.updated_at)
    return sa.or_(
        sa.and_(
            InboundEvent.status == "done",
            when < now - _days("RETENTION_INBOUND_EVENTS_DAYS"),
        ),
        sa.and_(
            InboundEvent.status == "failed",
            when < now - _days("RETENTION_FAILED_INBOUND_EVENTS_DAYS"),
        ),
    )


def _refresh_due(now: datetime) -> Any:
    """Tokens expired, or revoked, more than RETENTION_REFRESH_TOKENS_DAYS ago. A login
    whose rows are all gone counts as ended (`security.session_ended`); a used token
    stays until then, so a replay is still recognised while it could be accepted."""
    cutoff = now - _days("RETENTION_REFRESH_TOKENS_DAYS")
    return sa.or_(RefreshToken.expires_at < cutoff, RefreshToken.revoked_at < cutoff)


def _imports_due(now: datetime) -> Any:
    """Imports finished more than RETENTION_IMPORTS_DAYS ago (their files went when they
    ended), and any left unfinished that long (their job gave up): the sweep then takes
    their files."""
    cutoff = now - _days("RETENTION_IMPORTS_DAYS")
    return sa.or_(
        sa.and_(ImportJob.status.in_(("done", "failed")), ImportJob.finished_at < cutoff),
        sa.and_(ImportJob.status.in_(("queued", "running")), ImportJob.updated_at < cutoff),
    )


ROW_PURGES = (
    RowPurge("inbound_events", InboundEvent, _inbound_due),
    RowPurge("refresh_tokens", RefreshToken, _refresh_due),
    RowPurge("imports", ImportJob, _imports_due),
)


def count_due(purge: RowPurge, now: datetime) -> int:
    """How many rows the purge would delete now (a dry run)."""
    stmt = sa.select(sa.func.count()).select_from(purge.model).where(purge.due(now))
    return int(db.session.scalar(stmt) or 0)


def delete_batch(purge: RowPurge, now: datetime, limit: int) -> int:
    """Delete up to `limit` due rows (by id: short locks, any database); return how many."""
    model = purge.model
    ids = list(
        db.session.scalars(
            sa.select(model.id).where(purge.due(now)).order_by(model.id).limit(limit)
        )
    )
    if not ids:
        return 0
    db.session.execute(
        sa.delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
    )
    return len(ids)


def media_company_ids() -> list[int]:
    """The company folders under MEDIA_ROOT (a deleted company's included)."""
    root = Path(current_app.config["MEDIA_ROOT"])
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and p.is_dir())


def old_files(company_id: int, older_than: datetime) -> Iterator[str]:
    """Paths (relative to the company folder) of the regular files in the swept folders
    last written before `older_than`; symbolic links are never followed or listed."""
    root = media.company_root(company_id)
    cutoff = older_than.timestamp()
    for subdir in sorted(SWEPT_SUBDIRS):
        top = root / subdir
        if not top.is_dir() or top.is_symlink():
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
            for name in files:
                path = Path(folder) / name
                try:
                    stat = path.lstat()
                except OSError:
                    continue  # gone meanwhile
                if path.is_symlink() or not path.is_file() or stat.st_mtime >= cutoff:
                    continue
                yield path.relative_to(root).as_posix()


def delete_files(company_id: int, paths: list[str]) -> int:
    """Delete these files of the company (no transaction may be open); return how many
    were there."""
    return sum(1 for rel in paths if media.delete(company_id, rel))
