"""Connection (Whatsapp) schemas, session/timeline payloads and the fake gateway's payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.base import BaseSchema, Id, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.utils.crypto import decrypt_json, mask
from whaticket.whatsapp.fake import STATUSES

_text = {"allow_none": True, "validate": validate.Length(max=10000)}
#: Largest minute/hour/round count a connection setting accepts.
COUNTER_MAX = 10_000_000


class Counter(fields.Integer):
    """A whole-number setting of the connection modal (0 to COUNTER_MAX); "" or null means
    its default.

    The modal's number inputs send "" once cleared (e.g. "Transferir após x (minutos)"),
    which means "not set": the service stores the field's default (0 = off, 3 bot rounds).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= result <= COUNTER_MAX:
            raise ValidationError(f"Must be between 0 and {COUNTER_MAX}.")
        return result


#: providerConfig keys whose values are secrets: only their last 4 characters leave the API.
SECRET_FIELDS = ("accessToken", "appSecret", "verifyToken", "apiKey", "webhookSecret")


def masked_config(stored: str | None) -> dict[str, Any]:
    """The decrypted provider settings with every secret masked (last 4 characters)."""
    try:
        config = decrypt_json(stored)
    except ValueError:
        # Encrypted under another key: show nothing rather than fail the whole listing.
        return {}
    return {
        key: mask(value) if key in SECRET_FIELDS and isinstance(value, str) else value
        for key, value in config.items()
    }


class WhatsappQueueSchema(BaseSchema):
    """A queue as a connection lists it."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()


class WhatsappSchema(BaseSchema):
    """A connection as `GET /whatsapp` returns it and events carry it (secrets masked)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    status = fields.String()
    provider = fields.String()
    provider_config = fields.Method("_provider_config")
    provider_account_id = fields.String(allow_none=True)
    #: The connection this one's conversations moved to (read-only since), or null.
    migrated_to_id = fields.Integer(dump_only=True, allow_none=True)
    qrcode = fields.String(allow_none=True)
    retries = fields.Integer()
    is_default = fields.Boolean()
    greeting_message = fields.String(allow_none=True)
    complation_message = fields.String(allow_none=True)
    farewell_message = fields.String(allow_none=True)
    rating_message = fields.String(allow_none=True)
    out_of_hours_message = fields.String(allow_none=True)
    transfer_queue_id = fields.Integer(allow_none=True)
    integration_id = fields.Integer(allow_none=True)
    prompt_id = fields.Integer(allow_none=True)
    time_to_transfer = fields.Integer()
    max_use_bot_queues = fields.Integer()
    time_use_bot_queues = fields.Integer()
    expires_ticket = fields.Integer()
    expires_inactive_message = fields.String(allow_none=True)
    # Agents and socket events see the external-API token masked; admins get it in full
    # (AdminWhatsappSchema) because they copy it into the third-party system.
    token = fields.Method("_token")
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
    queues = fields.List(fields.Nested(WhatsappQueueSchema))

    def _provider_config(self, conn: Any) -> dict[str, Any]:
        return masked_config(conn.provider_config)

    def _token(self, conn: Any) -> str | None:
        return mask(conn.token)


class AdminWhatsappSchema(WhatsappSchema):
    """The connection as admins see it in HTTP answers: the external-API token in full."""

    def _token(self, conn: Any) -> str | None:
        return conn.token


class WhatsappListArgsSchema(BaseSchema):
    """`GET /whatsapp`: `session` (0 drops the session column) is accepted and ignored."""

    session = fields.String(load_default=None, allow_none=True)


class WhatsappCreateSchema(BaseSchema):
    """`POST /whatsapp`: every field of the connection (absent ones take their defaults)."""

    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    #: A provider name, or an alias ("beta", "stable", or none) for the default provider;
    #: which names may run here is the service's to say (provider_settings).
    provider = fields.String(load_default=None, allow_none=True)
    provider_config = fields.Dict(keys=fields.String(), allow_none=True)
    is_default = fields.Boolean(load_default=False)
    greeting_message = fields.String(**_text)
    complation_message = fields.String(**_text)
    farewell_message = fields.String(**_text)
    rating_message = fields.String(**_text)
    out_of_hours_message = fields.String(**_text)
    expires_inactive_message = fields.String(**_text)
    # The modal's queue picker sends "" (or null) for "no queue".
    transfer_queue_id = NullableId()
    integration_id = NullableId()
    prompt_id = NullableId()
    time_to_transfer = Counter()
    max_use_bot_queues = Counter()
    time_use_bot_queues = Counter()
    expires_ticket = Counter()
    queue_ids = fields.List(fields.Integer(), allow_none=True)
    token = fields.String(allow_none=True, validate=validate.Length(max=100))


class WhatsappUpdateSchema(WhatsappCreateSchema):
    """`PUT /whatsapp/<id>`: the same fields, all optional (absent ones are kept)."""

    name = fields.String(validate=validate.Length(min=2, max=120))
    provider = fields.String(allow_none=True)
    is_default = fields.Boolean()


class ConnectionEventSchema(BaseSchema):
    """One entry of a connection's health timeline."""

    status = fields.String()
    detail = fields.String(allow_none=True)
    created_at = Timestamp()


class ConnectionEventPageSchema(BaseSchema):
    """`GET /whatsapp/<id>/events`: newest first, 50 per page."""

    events = fields.List(fields.Nested(ConnectionEventSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ConnectionEventArgsSchema(PageArgsSchema):
    """`pageNumber` of the timeline (searchParam is ignored)."""


class BackfillSchema(BaseSchema):
    """What an outage backfill did for a gap: its status, how many messages it recovered."""

    status = fields.String()
    recovered = fields.Integer()
    detail = fields.String(allow_none=True)


class ConnectionIntervalSchema(BaseSchema):
    """One up or down stretch of a connection (`endedAt` null while it lasts)."""

    id = fields.Integer()
    state = fields.String()
    reason = fields.String(allow_none=True)
    started_at = Timestamp()
    ended_at = Timestamp(allow_none=True)
    seconds = fields.Integer()
    backfill = fields.Nested(BackfillSchema, allow_none=True)


class TimelinePageSchema(BaseSchema):
    """`GET /whatsapp/<id>/timeline`: intervals newest first, 50 per page."""

    intervals = fields.List(fields.Nested(ConnectionIntervalSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class MigrateSchema(BaseSchema):
    """`POST /whatsapp/<id>/migrate`: `{to}`, the connection that takes over."""

    to = Id(required=True)


class MigrationSummarySchema(BaseSchema):
    """What a number migration moved."""

    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    tickets_moved = fields.Integer()
    tickets_merged = fields.Integer()
    contacts = fields.Integer()
    users = fields.Integer()
    campaigns = fields.Integer()
    schedules = fields.Integer()


class SessionMessageSchema(BaseSchema):
    """`{message}` answered by the session endpoints."""

    message = fields.String()


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


class FakeContactSchema(BaseSchema):
    """One entry of the fake phone's address book: a number (or group id) and a name."""

    number = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9][0-9 ()+.-]{4,40}$"))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    is_group = fields.Boolean(load_default=False)


class FakeContactsSchema(BaseSchema):
    """`POST /fake-gateway/<id>/contacts`: entries to save in the fake phone's address book."""

    contacts = fields.List(
        fields.Nested(FakeContactSchema), required=True, validate=validate.Length(min=1, max=5000)
    )
