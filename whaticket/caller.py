"""The signed-in caller: a light view of the user's row, the full `User` loaded only if used.

Every authenticated request reads who its caller is. Hydrating ORM objects for the user,
the company and the plan cost more than the statement itself (profiled: about a third
of the floor's CPU), so the caller's one statement is a Core select of the columns the
request pipeline reads (role, visibility, company standing, time zone, plan flags) and
`Caller` answers from that row. Anything else (`email`, `online`, a relationship, a
write) goes to the ORM `User`, loaded by primary key on first use, so code written for a
`User` keeps working: reads and writes are forwarded, and `queues` loads in one
statement, as the relationship would.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from whaticket.extensions import db
from whaticket.models import Company, Plan, Queue, RefreshToken, User
from whaticket.models.plan import FEATURE_FLAGS
from whaticket.models.queue import user_queues

#: The user's columns the caller's statement reads (role, visibility, token version).
CALLER_USER = ("id", "name", "profile", "super", "token_version", "company_id", "all_ticket")
#: The company's columns it reads (standing and the client's time zone).
_COMPANY = ("due_date", "timezone", "plan_id")


class CallerPlan:
    """The plan's feature flags as the caller's statement read them."""

    __slots__ = ("id", *FEATURE_FLAGS)

    def __init__(self, plan_id: int, flags: dict[str, Any]) -> None:
        self.id = plan_id
        for flag in FEATURE_FLAGS:
            setattr(self, flag, flags[flag])


class CallerCompany:
    """The caller's company: standing, time zone and plan from the caller's row; any
    other attribute, and every write, goes to the ORM `Company`."""

    __slots__ = ("_row", "due_date", "id", "plan", "plan_id", "status", "timezone")

    def __init__(self, company_id: int, values: dict[str, Any], plan: CallerPlan | None):
        set_ = object.__setattr__
        set_(self, "id", company_id)
        set_(self, "status", True)  # the statement only finds users of active companies
        for key in _COMPANY:
            set_(self, key, values[key])
        set_(self, "plan", plan)
        set_(self, "_row", None)

    def orm(self) -> Company:
        """The ORM company (loaded by primary key on first use)."""
        row = object.__getattribute__(self, "_row")
        if row is None:
            row = db.session.get(Company, self.id)
            object.__setattr__(self, "_row", row)
        return row

    def __getattr__(self, name: str) -> Any:
        return getattr(self.orm(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.orm(), name, value)
        if name in CallerCompany.__slots__:
            object.__setattr__(self, name, value)


class Caller:
    """The signed-in user as read by the caller's statement (see the module docstring)."""

    __slots__ = (*CALLER_USER, "company", "_user", "_queues")

    def __init__(self, row: sa.Row) -> None:
        values = row._mapping
        set_ = object.__setattr__
        for key in CALLER_USER:
            set_(self, key, values[key])
        plan = None
        if values["plan_id"] is not None:
            plan = CallerPlan(values["plan_id"], {f: values[f"p_{f}"] for f in FEATURE_FLAGS})
        set_(self, "company", CallerCompany(self.company_id, values, plan))
        set_(self, "_user", None)
        set_(self, "_queues", None)

    @property
    def is_admin(self) -> bool:
        """Admin or super (as `User.is_admin`)."""
        return self.profile == "admin" or bool(self.super)

    @property
    def queues(self) -> list[Queue]:
        """The user's queues, in one statement (the relationship's own order)."""
        queues = object.__getattribute__(self, "_queues")
        if queues is None:
            user = object.__getattribute__(self, "_user")
            if user is not None:
                queues = list(user.queues)
            else:
                queues = list(
                    db.session.scalars(
                        sa.select(Queue)
                        .join(user_queues, user_queues.c.queue_id == Queue.id)
                        .where(user_queues.c.user_id == self.id)
                        .order_by(Queue.id)  # as the relationship orders them
                    )
                )
            object.__setattr__(self, "_queues", queues)
        return queues

    def orm(self) -> User:
        """The ORM user (loaded by primary key on first use)."""
        user = object.__getattribute__(self, "_user")
        if user is None:
            # Its queues load when read (the relationship's default, selectin, would
            # add a statement to every request that touches any other column).
            user = db.session.get(User, self.id, options=[lazyload(User.queues)])
            object.__setattr__(self, "_user", user)
        return user

    def __getattr__(self, name: str) -> Any:
        return getattr(self.orm(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.orm(), name, value)
        if name in Caller.__slots__:
            object.__setattr__(self, name, value)
        if name == "queues":
            object.__setattr__(self, "_queues", None)

    def __repr__(self) -> str:
        return f"<Caller user={self.id} company={self.company_id}>"


@cache
def statement(check_login: bool) -> sa.Select:
    """The caller's one statement; bound parameters `uid`, `tv` and (`check_login`) `fam`."""
    columns = [getattr(User, name) for name in CALLER_USER]
    columns += [getattr(Company, name) for name in _COMPANY]
    columns += [getattr(Plan, flag).label(f"p_{flag}") for flag in FEATURE_FLAGS]
    stmt = (
        sa.select(*columns)
        .select_from(User)
        .join(Company, Company.id == User.company_id)
        .outerjoin(Plan, Plan.id == Company.plan_id)
        .where(
            User.id == sa.bindparam("uid"),
            User.token_version == sa.bindparam("tv"),
            Company.status.is_(True),
        )
    )
    if check_login:
        stmt = stmt.where(
            sa.exists().where(
                RefreshToken.family == sa.bindparam("fam"), RefreshToken.revoked_at.is_(None)
            )
        )
    return stmt


def load(params: dict[str, Any]) -> Caller | None:
    """The caller whose token carries `params` (None: no such user may act)."""
    row = db.session.execute(statement("fam" in params), params).first()
    return None if row is None else Caller(row)


__all__ = ["CALLER_USER", "Caller", "CallerCompany", "CallerPlan", "load", "statement"]
