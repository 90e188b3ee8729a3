"""Connection (Whatsapp) schemas and the fake gateway's payloads."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.whatsapp.fake import STATUSES
from whaticket.whatsapp.registry import provider_names

_text = {"allow_none": True, "validate": validate.Length(max=10000)}


class WhatsappSchema(BaseSchema):
    """A connection as `GET /whatsapp` returns it (the SaaS shape; no session column)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    status = fields.String()
    provider = fields.String()
    is_default = fields.Boolean()
    greeting_message = fields.String(allow_none=True)
    complation_message = fields.String(allow_none=True)
    rating_message = fields.String(allow_none=True)
    out_of_hours_message = fields.String(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
    # Queues per connection come with the full connection management; the SPA needs the key.
    queues = fields.Function(lambda _conn: [])


class WhatsappListArgsSchema(BaseSchema):
    """`GET /whatsapp`: `session` (0 drops the session column) is accepted and ignored."""

    session = fields.String(load_default=None, allow_none=True)


class WhatsappCreateSchema(BaseSchema):
    """`POST /whatsapp` (the SPA also sends queueIds, token...: ignored for now)."""

    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    provider = fields.String(load_default="fake")
    is_default = fields.Boolean(load_default=False)
    greeting_message = fields.String(**_text)
    complation_message = fields.String(**_text)
    rating_message = fields.String(**_text)
    out_of_hours_message = fields.String(**_text)

    @validates("provider")
    def _known_provider(self, value: str, **_kwargs: object) -> None:
        if value not in provider_names():
            raise ValidationError(f"Must be one of: {', '.join(provider_names())}.")


class FakeInboundSchema(BaseSchema):
    """`POST /fake-gateway/<id>/inbound` (JSON or multipart form fields).

    `{from, name, body, id?}`, plus the optional `fromMe`, `isGroup`, `groupName` and
    `participant` of the fake's webhook format.
    """

    from_ = fields.String(
        required=True, data_key="from", validate=validate.Regexp(r"^\+?[0-9][0-9 ()+.-]{4,40}$")
    )
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    body = fields.String(load_default="", validate=validate.Length(max=65536))
    id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=191))
    # Optional, as in the fake's webhook format: phone-sent echoes and group messages.
    from_me = fields.Boolean(load_default=False)
    is_group = fields.Boolean(load_default=False)
    group_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=255)
    )
    participant = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9][0-9 ()+.-]{4,40}$")
    )


class FakeStatusSchema(BaseSchema):
    """`POST /fake-gateway/<id>/status`."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=191))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class FakeAcceptedSchema(BaseSchema):
    """`{id}`: the provider message id of an injected message."""

    id = fields.String()


class FakeAckSchema(BaseSchema):
    """`{id, ack}`: a status applied."""

    id = fields.String()
    ack = fields.Integer()
