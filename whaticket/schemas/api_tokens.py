"""API token schemas (`/api-tokens`): the token as admins see it (the secret only in the
answer that made it), the create payload and the list page."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.models.api_token import API_SCOPES
from whaticket.schemas.base import BaseSchema, Id, PageArgsSchema
from whaticket.schemas.fields import Timestamp


class ApiTokenSchema(BaseSchema):
    """A token without its secret: what it may do, where, until when, and its last use."""

    id = fields.Integer()
    name = fields.String()
    scopes = fields.List(fields.String())
    whatsapp_ids = fields.List(fields.Integer())
    queue_ids = fields.List(fields.Integer())
    #: active, expired or revoked.
    status = fields.String()
    expires_at = Timestamp()
    revoked_at = Timestamp(allow_none=True)
    last_used_at = Timestamp(allow_none=True)
    #: The last characters of the token, to tell which one an integration holds.
    token_hint = fields.String()
    created_by_id = fields.Integer(allow_none=True)
    created_at = Timestamp()


class ApiTokenSecretSchema(ApiTokenSchema):
    """Answer of a create: the only time the token is shown."""

    token = fields.String()


class ApiTokenPageSchema(BaseSchema):
    """`GET /api-tokens`: {apiTokens, count, hasMore}."""

    api_tokens = fields.List(fields.Nested(ApiTokenSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ApiTokenArgsSchema(PageArgsSchema):
    """`GET /api-tokens?pageNumber=`."""


class _Scopes(fields.List):
    """A non-empty list of known scopes (repeats dropped)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=validate.OneOf(API_SCOPES)),
            validate=validate.Length(min=1, max=len(API_SCOPES)),
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))


class ApiTokenCreateSchema(BaseSchema):
    """`POST /api-tokens`: {name, scopes, whatsappIds?, queueIds?, expiresAt?}."""

    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=120),
            validate.Regexp(r".*\S", error="Must not be blank."),
        ],
    )
    scopes = _Scopes(required=True)
    #: Limit the token to these connections / queues (empty or absent: no limit).
    whatsapp_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=100))
    queue_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=100))
    #: When it stops working (default: API_TOKEN_DEFAULT_DAYS from now).
    expires_at = Timestamp(load_default=None, allow_none=True)
