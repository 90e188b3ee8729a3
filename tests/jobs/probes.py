"""Jobs the worker-process tests queue: each appends a line to a file, so what ran (and
when it started) can be read back whatever happened to Redis or the database meanwhile."""

from __future__ import annotations

import time

import sqlalchemy as sa

from whaticket.extensions import db


def mark(path: str, text: str) -> None:
    """Append `text` to the file at `path`."""
    with open(path, "a", encoding="utf-8") as out:
        out.write(text + "\n")


def slow_mark(path: str, text: str, seconds: float) -> None:
    """Mark "<text>-started", wait, then mark `text`."""
    mark(path, f"{text}-started")
    time.sleep(seconds)
    mark(path, text)


def count_users(path: str, text: str) -> None:
    """Read the database, then mark `text` (nothing when the database is unreachable)."""
    db.session.execute(sa.text("SELECT COUNT(*) FROM users")).scalar()
    db.session.commit()
    mark(path, text)


def lines(path) -> list[str]:
    """The lines marked so far."""
    try:
        with open(path, encoding="utf-8") as got:
            return got.read().split()
    except FileNotFoundError:
        return []
