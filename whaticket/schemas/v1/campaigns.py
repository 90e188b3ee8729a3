"""Public API v1 campaign schemas: the campaign, with its delivery counts, its feed, and
the create payload."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.models.campaign import CAMPAIGN_STATUSES, VARIANTS
from whaticket.schemas.base import BaseSchema, Id
from whaticket.schemas.campaigns import MESSAGE_MAX, CampaignReportSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.v1 import FeedArgsSchema, FeedPageSchema


def _variants(campaign: Any, prefix: str) -> list[str]:
    """The campaign's non-empty texts `<prefix>1..5`, in order."""
    texts = (getattr(campaign, f"{prefix}{i}", "") for i in VARIANTS)
    return [text for text in texts if text]


class V1CampaignSchema(BaseSchema):
    """A campaign: messages rotated over a contact list, sent on one connection."""

    id = fields.Integer()
    name = fields.String()
    #: INATIVA (not started), PROGRAMADA (scheduled), EM_ANDAMENTO (sending, or paused:
    #: see pausedReason), CANCELADA, FINALIZADA.
    status = fields.String()
    #: Why a running campaign is not sending: PAUSED (asked for), or an error code (the
    #: connection is down, the company is overdue) that lifts by itself.
    paused_reason = fields.String(allow_none=True)
    messages = fields.Method("_messages")
    confirmation = fields.Boolean()
    confirmation_messages = fields.Method("_confirmations")
    contact_list_id = fields.Integer(allow_none=True)
    whatsapp_id = fields.Integer(allow_none=True)
    scheduled_at = Timestamp(allow_none=True)
    started_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _messages(self, campaign: Any) -> list[str]:
        return _variants(campaign, "message")

    def _confirmations(self, campaign: Any) -> list[str]:
        return _variants(campaign, "confirmation_message")


class V1CampaignDetailSchema(V1CampaignSchema):
    """`GET /v1/campaigns/<id>`: the campaign and its delivery counts."""

    report = fields.Nested(CampaignReportSchema)


class V1CampaignPageSchema(FeedPageSchema):
    """`GET /v1/campaigns`: {campaigns, hasMore, nextCursor}."""

    campaigns = fields.List(fields.Nested(V1CampaignSchema))


class V1CampaignListArgsSchema(FeedArgsSchema):
    """`GET /v1/campaigns`: the feed, filtered by status."""

    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))


def _texts(required: bool) -> fields.List:
    """1-5 (or 0-5) non-blank texts of at most MESSAGE_MAX characters."""
    text = fields.String(
        validate=[
            validate.Length(min=1, max=MESSAGE_MAX),
            validate.Regexp(r"[\s\S]*\S", error="Must not be blank."),
        ]
    )
    size = validate.Length(min=1 if required else 0, max=len(VARIANTS))
    if required:
        return fields.List(text, required=True, validate=size)
    return fields.List(text, load_default=list, validate=size)


class V1CampaignCreateSchema(BaseSchema):
    """`POST /v1/campaigns`: {name, contactListId, whatsappId, messages[1-5], scheduledAt?,
    confirmation?, confirmationMessages?}."""

    name = fields.String(required=True, validate=validate.Length(min=3, max=255))
    contact_list_id = Id(required=True)
    whatsapp_id = Id(required=True)
    #: Variants rotated over the contacts (one each, in turn).
    messages = _texts(required=True)
    #: Ask each contact first, and send `messages` once they confirm.
    confirmation = fields.Boolean(load_default=False)
    confirmation_messages = _texts(required=False)
    #: When it starts (left out: INATIVA until `POST .../resume`).
    scheduled_at = Timestamp(allow_none=True)

    @validates_schema
    def _confirm(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("confirmation") and not data.get("confirmation_messages"):
            raise ValidationError("Needed with confirmation.", "confirmationMessages")
