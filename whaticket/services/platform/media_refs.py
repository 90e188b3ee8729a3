"""Which stored files rows still point at: every column holding a path under
MEDIA_ROOT/<company_id>/ (what the orphan sweep must never delete).

A feature that stores files keeps their path in one of these columns; a new one must be
added here, and its folder to `retention.SWEPT_SUBDIRS` only then.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import (
    Announcement,
    Campaign,
    ChatMessage,
    FileListOption,
    ImportJob,
    Message,
    Queue,
    QueueOption,
    QuickMessage,
    Schedule,
)


def reference_columns() -> list[tuple[Any, Any]]:
    """(path column, its company column) of every table that stores media paths."""
    return [
        (Message.media_path, Message.company_id),
        (ChatMessage.media_path, ChatMessage.company_id),
        (Campaign.media_path, Campaign.company_id),
        (Schedule.media_path, Schedule.company_id),
        (Queue.media_path, Queue.company_id),
        (QueueOption.media_path, QueueOption.company_id),
        (QuickMessage.media_path, QuickMessage.company_id),
        (Announcement.media_path, Announcement.company_id),
        (FileListOption.path, FileListOption.company_id),
        (ImportJob.file_path, ImportJob.company_id),
    ]


def referenced_paths(company_id: int) -> set[str]:
    """Every path a row of the company points at (one read per column)."""
    paths: set[str] = set()
    for column, company_column in reference_columns():
        paths.update(
            db.session.scalars(
                sa.select(column).where(company_column == company_id, column.is_not(None))
            )
        )
    return paths
