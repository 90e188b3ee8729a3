"""User schemas: the row shape of the SaaS, create and update payloads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate, validates

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp

PROFILES = ("admin", "user")
ALL_TICKET = ("enabled", "disabled", "desabled")


class QueueRefSchema(BaseSchema):
    """A queue as embedded in users and tickets."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()


class UserQueueJoinSchema(BaseSchema):
    """The SaaS `UserQueue` join object that Sequelize puts in each of a user's queues."""

    user_id = fields.Integer()
    queue_id = fields.Integer()
    created_at = Timestamp(allow_none=True)
    updated_at = Timestamp(allow_none=True)


class UserQueueSchema(QueueRefSchema):
    """A queue of a user: {id, name, color, UserQueue} (the Kanban reads UserQueue.queueId)."""

    user_queue = fields.Nested(UserQueueJoinSchema, data_key="UserQueue")


def queues_with_links(user: Any) -> list[dict[str, Any]]:
    """The user's queues, each with its link row, from two loads whatever the queue count."""
    links = {link.queue_id: link for link in user.queue_links}
    if any(q.id not in links for q in user.queues):
        # The links were read before this request changed the queues: read them again.
        session = sa.inspect(user).session
        if session is not None:
            session.expire(user, ["queue_links"])
            links = {link.queue_id: link for link in user.queue_links}
    rows = []
    for queue in user.queues:
        link = links.get(queue.id)
        rows.append(
            {
                "id": queue.id,
                "name": queue.name,
                "color": queue.color,
                "user_queue": {
                    "user_id": user.id,
                    "queue_id": queue.id,
                    "created_at": link.created_at if link is not None else None,
                    "updated_at": link.updated_at if link is not None else None,
                },
            }
        )
    return rows


class UserQueuesField(fields.List):
    """`queues` of a user, each carrying its `UserQueue` join object."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(UserQueueSchema), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None or isinstance(obj, dict):
            return super()._serialize(value, attr, obj, **kwargs)
        return super()._serialize(queues_with_links(obj), attr, obj, **kwargs)


class CompanyRefSchema(BaseSchema):
    """A company as embedded in users."""

    id = fields.Integer()
    name = fields.String()


class WhatsappRefSchema(BaseSchema):
    """A connection as embedded in users."""

    id = fields.Integer()
    name = fields.String()


class UserSchema(BaseSchema):
    """A user as the API returns it (never the hash or the token version)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.String()
    profile = fields.String()
    super = fields.Boolean()
    online = fields.Boolean()
    all_ticket = fields.String()
    company_id = fields.Integer()
    whatsapp_id = fields.Integer(allow_none=True)
    queues = UserQueuesField()
    company = fields.Nested(CompanyRefSchema)
    whatsapp = fields.Nested(WhatsappRefSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class UserEventCompanySchema(CompanyRefSchema):
    """The company in `company-{cid}-user` events: what login's `user.company` carries
    (less the per-session settings), since the SPA replaces its logged-in user with the
    event's and the header reads `company.dueDate` ("Ativo até")."""

    status = fields.Boolean()
    due_date = Timestamp(allow_none=True)
    plan_id = fields.Integer(allow_none=True)


class UserEventSchema(UserSchema):
    """A user as `company-{cid}-user` events carry it (queues keep their UserQueue)."""

    company = fields.Nested(UserEventCompanySchema)


class UserListItemSchema(BaseSchema):
    """A row of `GET /users/list`."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    queues = UserQueuesField()


class UserPageSchema(BaseSchema):
    """`GET /users`: {users, count, hasMore}."""

    users = fields.List(fields.Nested(UserSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class UserListArgsSchema(BaseSchema):
    """`GET /users/list`: an optional companyId (super users only)."""

    company_id = NullableId()


class UserPageArgsSchema(PageArgsSchema):
    """`GET /users`: searchParam, pageNumber and an optional companyId (super users only)."""

    company_id = NullableId()


_password = {"validate": validate.Length(min=5, max=72), "load_only": True}


class UserCreateSchema(BaseSchema):
    """`POST /users`."""

    name = fields.String(required=True, validate=validate.Length(min=2, max=255))
    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, **_password)
    profile = fields.String(load_default="user", validate=validate.OneOf(PROFILES))
    super = fields.Boolean(load_default=False)
    company_id = NullableId()
    queue_ids = fields.List(fields.Integer(), load_default=list)
    whatsapp_id = NullableId()
    all_ticket = fields.String(load_default="desabled", validate=validate.OneOf(ALL_TICKET))


class UserUpdateSchema(BaseSchema):
    """`PUT /users/<id>`: every field optional; an empty password leaves it unchanged."""

    name = fields.String(validate=validate.Length(min=2, max=255))
    email = fields.Email(validate=validate.Length(max=255))
    password = fields.String(load_only=True)
    profile = fields.String(validate=validate.OneOf(PROFILES))
    super = fields.Boolean()
    company_id = NullableId()
    queue_ids = fields.List(fields.Integer())
    whatsapp_id = NullableId()
    all_ticket = fields.String(validate=validate.OneOf(ALL_TICKET))

    @validates("password")
    def _password(self, value: str, **_kw: object) -> None:
        if value and not 5 <= len(value.encode()) <= 72:
            raise ValidationError("Length must be between 5 and 72.")
