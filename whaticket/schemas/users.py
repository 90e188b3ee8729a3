"""User schemas: the row shape of the SaaS, create and update payloads."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp

PROFILES = ("admin", "user")
ALL_TICKET = ("enabled", "disabled", "desabled")


class QueueRefSchema(BaseSchema):
    """A queue as embedded in users and tickets."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()


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
    queues = fields.List(fields.Nested(QueueRefSchema))
    company = fields.Nested(CompanyRefSchema)
    whatsapp = fields.Nested(WhatsappRefSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class UserListItemSchema(BaseSchema):
    """A row of `GET /users/list`."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    queues = fields.List(fields.Nested(QueueRefSchema))


class UserPageSchema(BaseSchema):
    """`GET /users`: {users, count, hasMore}."""

    users = fields.List(fields.Nested(UserSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class UserListArgsSchema(BaseSchema):
    """`GET /users/list`: an optional companyId (super users only)."""

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
