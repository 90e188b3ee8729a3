"""Queues, Users, UserQueues, Tags and QuickMessages: the team and what it works with.

Users keep their bcrypt hash (the old passwords log in), profile, super flag and token
version. The e-mail is the login and unique across companies: an old user whose e-mail
already belongs to a user of the same (merged) company is that user and takes the old
values; one that belongs to another company's user is skipped and reported.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.links import LinkStep
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_int, as_json, opt_text, text
from whaticket.models import Queue, QuickMessage, Tag, User, user_queues


def _company(ctx: Context, step: Step, row: dict[str, Any]) -> int | None:
    """Our company of an old row; an unknown one makes the row an orphan (skipped)."""
    company_id = ctx.maps.new_id("Companies", row.get("companyId"))
    if company_id is None:
        ctx.skipped(step, row, "company missing (orphan)")
    return company_id


class Queues(Step):
    """Queues with greeting, out-of-hours text, schedule, order and media; a queue of the
    same name in the company is it; a colour already taken gets a free one."""

    table = "Queues"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name)."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            name = text(row.get("name"), 120) or f"Queue {row['id']}"
            queue = db.session.scalar(
                sa.select(Queue).where(Queue.company_id == company_id, Queue.name == name)
            )
            if queue is not None:
                ctx.merged(self, row, queue.id, "queue of the same name already here")
                continue
            colors = set(
                db.session.scalars(sa.select(Queue.color).where(Queue.company_id == company_id))
            )
            color = text(row.get("color"), 20) or "#7C7C7C"
            if color in colors:
                color = next(
                    f"#{n:06X}"
                    for n in range(row["id"], row["id"] + 10**6)
                    if f"#{n:06X}" not in colors
                )
                ctx.report.note(
                    self.table, "note", row["id"], "colour already taken: another given"
                )
            path, media_name, _ = media.copy(
                ctx, company_id, row.get("companyId"), row.get("mediaPath"), "queues"
            )
            queue = Queue(
                company_id=company_id,
                name=name,
                color=color,
                greeting_message=opt_text(row.get("greetingMessage")),
                out_of_hours_message=opt_text(row.get("outOfHoursMessage")),
                order_queue=row.get("orderQueue"),
                schedules=as_json(row.get("schedules"), []) or [],
                media_path=path,
                media_name=opt_text(row.get("mediaName"), 255) or (media_name if path else None),
                **_stamps(row),
            )
            db.session.add(queue)
            db.session.flush()
            ctx.written(self, row, queue.id, media.pending(row.get("mediaPath"), path))

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Greeting files of queues imported before without them."""
        media.attach(ctx, self, seen, Queue, "mediaPath", "queues")

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed texts, schedule and order."""
        queue = db.session.get(Queue, mapped.new_id) if mapped.action == "written" else None
        changed = queue is not None and _assign(
            queue,
            {
                "greeting_message": opt_text(row.get("greetingMessage")),
                "out_of_hours_message": opt_text(row.get("outOfHoursMessage")),
                "order_queue": row.get("orderQueue"),
                "schedules": as_json(row.get("schedules"), []) or [],
            },
        )
        db.session.flush()
        return changed


class Users(Step):
    """Users with their bcrypt hashes; the e-mail decides who is who."""

    table = "Users"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """Our user's columns from an old row."""
        profile = text(row.get("profile")).strip().lower()
        return {
            "name": text(row.get("name"), 255) or text(row.get("email"), 255),
            "password_hash": text(row.get("passwordHash"), 255),
            "profile": profile if profile in ("admin", "user") else "user",
            "super": as_bool(row.get("super")),
            "token_version": as_int(row.get("tokenVersion")),
            "all_ticket": text(row.get("allTicket"), 20) or "desabled",
            "whatsapp_id": ctx.maps.new_id("Whatsapps", row.get("whatsappId")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write, merge by e-mail within the company, or skip an e-mail taken elsewhere."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            email = text(row.get("email")).strip().lower()[:255]
            if not email:
                ctx.skipped(self, row, "user without an e-mail")
                continue
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is not None and user.company_id != company_id:
                ctx.skipped(self, row, "e-mail belongs to a user of another company")
                continue
            if user is not None:
                _assign(user, self.values(ctx, row))
                db.session.flush()
                ctx.merged(
                    self, row, user.id, "user of the same e-mail already here (old values taken)"
                )
                continue
            user = User(
                company_id=company_id,
                email=email,
                online=False,
                **self.values(ctx, row),
                **_stamps(row),
            )
            db.session.add(user)
            db.session.flush()
            ctx.written(self, row, user.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take a changed password, profile, name..."""
        user = db.session.get(User, mapped.new_id)
        changed = user is not None and _assign(user, self.values(ctx, row))
        db.session.flush()
        return changed


class UserQueues(LinkStep):
    """The queues of each user."""

    table = "UserQueues"
    order_by = ("userId", "queueId")
    company_via = ("Users", "userId")
    left = ("userId", "Users", "user_id")
    right = ("queueId", "Queues", "queue_id")
    target = user_queues


class Tags(Step):
    """Tags and Kanban lanes; a tag of the same name in the company is it."""

    table = "Tags"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name)."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            name = text(row.get("name"), 120) or f"Tag {row['id']}"
            tag = db.session.scalar(
                sa.select(Tag).where(Tag.company_id == company_id, Tag.name == name)
            )
            if tag is not None:
                ctx.merged(self, row, tag.id, "tag of the same name already here")
                continue
            tag = Tag(
                company_id=company_id,
                name=name,
                color=text(row.get("color"), 20) or "#A4CCCC",
                kanban=as_int(row.get("kanban")),
                **_stamps(row),
            )
            db.session.add(tag)
            db.session.flush()
            ctx.written(self, row, tag.id)


class QuickMessages(Step):
    """Canned replies, company-wide or personal, with their media."""

    table = "QuickMessages"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each; a personal one whose user is gone becomes company-wide."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            user_id = ctx.maps.new_id("Users", row.get("userId"))
            if row.get("userId") is not None and user_id is None:
                ctx.report.note(self.table, "note", row["id"], "user missing: made company-wide")
            path, media_name, _ = media.copy(
                ctx,
                company_id,
                row.get("companyId"),
                row.get("mediaPath"),
                "quick_messages",
                extra=("quickMessage",),
            )
            quick = QuickMessage(
                company_id=company_id,
                shortcode=text(row.get("shortcode"), 120),
                message=text(row.get("message")),
                user_id=user_id,
                media_path=path,
                media_name=opt_text(row.get("mediaName"), 255) or (media_name if path else None),
                **_stamps(row),
            )
            db.session.add(quick)
            db.session.flush()
            ctx.written(self, row, quick.id, media.pending(row.get("mediaPath"), path))

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of quick messages imported before without them."""
        media.attach(
            ctx, self, seen, QuickMessage, "mediaPath", "quick_messages", extra=("quickMessage",)
        )
