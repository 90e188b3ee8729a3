"""Users: listing, create/update/delete with plan limits and role rules, online status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from whaticket import bus
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, User, Whatsapp
from whaticket.realtime import kick
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.users import UserEventSchema
from whaticket.security import hash_password
from whaticket.services.billing import plans as plan_service
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import find_owned, get_owned, value_taken

#: Fields a non-admin may change on their own account.
SELF_EDITABLE = frozenset({"name", "password"})


def list_users(company_id: int, search: str, page_number: int) -> tuple[list[User], int, bool]:
    """A page of the company's users, newest first, searched on name or e-mail."""
    stmt = (
        sa.select(User).where(User.company_id == company_id).options(selectinload(User.queue_links))
    )
    if search:
        stmt = stmt.where(search_filter(search, User.name, User.email))
    return paginate(stmt.order_by(User.created_at.desc(), User.id.desc()), page_number)


def list_all(company_id: int) -> list[User]:
    """All users of a company ordered by id (the `/users/list` picker)."""
    stmt = (
        sa.select(User)
        .where(User.company_id == company_id)
        .options(selectinload(User.queue_links))
        .order_by(User.id)
    )
    return list(db.session.scalars(stmt))


def get_user(company_id: int, user_id: int) -> User:
    """A user of the company; another company's user is 404 like a missing one."""
    return get_owned(User, user_id, company_id, "ERR_NO_USER_FOUND")


def acting_company(actor: User, user_id: int) -> int:
    """The company a request on user `user_id` acts in.

    The actor's own company, except for a super user, who operates every company and so
    acts in the target user's company (404 when there is no such user).
    """
    if not actor.super:
        return int(actor.company_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise AppError("ERR_NO_USER_FOUND", 404)
    return int(user.company_id)


def _company_queues(company_id: int, queue_ids: list[int]) -> list[Queue]:
    """Resolve queue ids within the company; an unknown id is a validation error."""
    if not queue_ids:
        return []
    found = list(
        db.session.scalars(
            sa.select(Queue).where(Queue.company_id == company_id, Queue.id.in_(set(queue_ids)))
        )
    )
    if len(found) != len(set(queue_ids)):
        raise AppError("ERR_VALIDATION", 400, {"queueIds": ["Unknown queue."]})
    return sorted(found, key=lambda q: q.id)


def _check_whatsapp(company_id: int, whatsapp_id: int | None) -> None:
    if whatsapp_id is None:
        return
    if find_owned(Whatsapp, whatsapp_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Unknown connection."]})


def enforce_user_limit(company_id: int) -> None:
    """400 ERR_USER_LIMIT_REACHED when the company's plan has no room for another user."""
    plan_service.enforce_limit(company_id, User, "users", "ERR_USER_LIMIT_REACHED")


def create_user(
    company_id: int,
    data: dict[str, Any],
    *,
    actor: User | None = None,
    enforce_limit: bool = True,
) -> User:
    """Create a user in `company_id` (plan limit, unique e-mail, company-scoped queues).

    `enforce_limit=False` is for a new company's first admin, who exists whatever the plan.
    """
    if enforce_limit:
        enforce_user_limit(company_id)
    email = data["email"].strip().lower()
    if value_taken(User.email, email):
        raise AppError("ERR_DUPLICATED_EMAIL", 400)
    if data.get("super") and not (actor is not None and actor.super):
        raise AppError("ERR_NO_PERMISSION", 403)
    _check_whatsapp(company_id, data.get("whatsapp_id"))
    user = User(
        company_id=company_id,
        name=data["name"].strip(),
        email=email,
        password_hash=hash_password(data["password"]),
        profile=data.get("profile") or "user",
        super=bool(data.get("super", False)),
        all_ticket=data.get("all_ticket") or "desabled",
        whatsapp_id=data.get("whatsapp_id"),
    )
    user.queues = _company_queues(company_id, data.get("queue_ids") or [])
    db.session.add(user)
    db.session.flush()
    emit_to_company(company_id, "user", {"action": "create", "user": payload(user)})
    return user


def _check_self_edit(user: User, data: dict[str, Any]) -> None:
    """A non-admin may only change their own name and password; anything else is 403."""
    current = {
        "email": user.email,
        "profile": user.profile,
        "all_ticket": user.all_ticket,
        "whatsapp_id": user.whatsapp_id,
        "super": bool(user.super),
        "queue_ids": sorted(q.id for q in user.queues),
    }
    for key, value in data.items():
        if key in SELF_EDITABLE or key not in current:
            continue
        if key == "email" and isinstance(value, str):
            value = value.strip().lower()
        if key == "queue_ids":
            value = sorted(value or [])
        if value != current[key]:
            raise AppError("ERR_NO_PERMISSION", 403)


def update_user(company_id: int, user_id: int, data: dict[str, Any], *, actor: User) -> User:
    """Update a user of the company: admins any field, others their own name/password.

    A `company_id` in `data` must be the user's own company: users never move between
    companies (400 for a super user), and anyone else naming another company is 403.
    """
    user = get_user(company_id, user_id)
    requested = data.pop("company_id", None)
    if requested is not None and requested != user.company_id:
        if not actor.super:
            raise AppError("ERR_NO_PERMISSION", 403)
        raise AppError(
            "ERR_VALIDATION", 400, {"companyId": ["A user cannot move to another company."]}
        )
    if not actor.is_admin:
        if actor.id != user.id:
            raise AppError("ERR_NO_PERMISSION", 403)
        _check_self_edit(user, data)
    if user.super and not actor.super:
        raise AppError("ERR_NO_PERMISSION", 403)
    if "super" in data and bool(data["super"]) != bool(user.super) and not actor.super:
        raise AppError("ERR_NO_PERMISSION", 403)
    demoting = data.get("profile") == "user" and user.profile == "admin"
    if demoting and not _other_admins(company_id, user.id):
        # Demoting the last admin would leave the company with nobody to manage it.
        raise AppError("ERR_LAST_ADMIN", 400)
    if "email" in data:
        email = data["email"].strip().lower()
        if value_taken(User.email, email, exclude_id=user.id):
            raise AppError("ERR_DUPLICATED_EMAIL", 400)
        user.email = email
    if "name" in data:
        user.name = data["name"].strip()
    for key in ("profile", "all_ticket"):
        if key in data and data[key] is not None:
            setattr(user, key, data[key])
    if "super" in data and actor.super:
        user.super = bool(data["super"])
    if "whatsapp_id" in data:
        _check_whatsapp(company_id, data["whatsapp_id"])
        user.whatsapp_id = data["whatsapp_id"]
    joined = False
    if "queue_ids" in data and data["queue_ids"] is not None:
        before = {queue.id for queue in user.queues}
        user.queues = _company_queues(company_id, data["queue_ids"])
        joined = bool({queue.id for queue in user.queues} - before)
    new_password = bool(data.get("password"))
    if new_password:
        user.password_hash = hash_password(data["password"])
    db.session.flush()
    if joined:
        # New queues may have tickets waiting for an agent like this one.
        bus.agent_available.publish(
            company_id=company_id, user_id=user.id, reason="capacity_raised"
        )
    emit_to_company(company_id, "user", {"action": "update", "user": payload(user)})
    if new_password:
        # A new password ends every session of the user, on every device (registered
        # after the emit: side effects run in order, and a kicked socket hears nothing).
        end_sessions(user)
    return user


def _other_admins(company_id: int, user_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(User.id)).where(
                User.company_id == company_id, User.profile == "admin", User.id != user_id
            )
        )
        or 0
    )


def delete_user(company_id: int, user_id: int, *, actor: User) -> None:
    """Delete a user of the company; their open tickets go back to pending first."""
    user = get_user(company_id, user_id)
    if user.id == actor.id:
        raise AppError("ERR_CANNOT_DELETE_SELF", 400)
    if user.super and not actor.super:
        raise AppError("ERR_NO_PERMISSION", 403)
    bus.user_deleting.publish(company_id=company_id, user=user)
    db.session.delete(user)
    db.session.flush()
    emit_to_company(company_id, "user", {"action": "delete", "userId": user_id})
    # Their open sockets would go on receiving the company's events.
    kick.disconnect_user(user_id)


def end_sessions(user: User) -> None:
    """End every session of the user: their access and refresh tokens stop working (token
    version) and, after the commit, their sockets on every web process are disconnected."""
    user.token_version = (user.token_version or 0) + 1
    kick.disconnect_user(user.id)


def touch_online(user: User) -> None:
    """Record activity: the user is online now (announced when they were not)."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["USER_STALE_ONLINE_SECONDS"])
    was_online = bool(user.online) and user.last_seen_at is not None and user.last_seen_at >= stale
    user.online = True
    user.last_seen_at = now
    db.session.flush()
    if not was_online:
        # Queues that assign by themselves may have tickets waiting for this agent.
        bus.agent_available.publish(
            company_id=user.company_id, user_id=user.id, reason="agent_online"
        )


def set_offline(user: User) -> None:
    """Mark the user offline (logout)."""
    user.online = False
    db.session.flush()
    emit_to_company(user.company_id, "user", {"action": "update", "user": payload(user)})


def sweep_stale_online() -> int:
    """Users online with no activity for USER_STALE_ONLINE_SECONDS go offline; return how many."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["USER_STALE_ONLINE_SECONDS"])
    stale = list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.online.is_(True),
                sa.or_(User.last_seen_at.is_(None), User.last_seen_at < cutoff),
            )
            # Each one is emitted with its queues' UserQueue rows: load those in one batch.
            .options(selectinload(User.queue_links))
        )
    )
    for user in stale:
        user.online = False
        emit_to_company(user.company_id, "user", {"action": "update", "user": payload(user)})
    db.session.flush()
    return len(stale)


def payload(user: User) -> dict[str, Any]:
    """The user as events carry it: the row shape, with the company as login has it."""
    return UserEventSchema().dump(user)
