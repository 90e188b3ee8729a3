"""Campaign schemas: the row as the frontend shows it, payloads, report and shipping rows."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.schemas.queues import media_url

MESSAGE_MAX = 4096


class _Ref(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class CampaignSchema(BaseSchema):
    """A campaign row with its list and connection."""

    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    confirmation = fields.Boolean()
    message1 = fields.String()
    message2 = fields.String()
    message3 = fields.String()
    message4 = fields.String()
    message5 = fields.String()
    confirmation_message1 = fields.String()
    confirmation_message2 = fields.String()
    confirmation_message3 = fields.String()
    confirmation_message4 = fields.String()
    confirmation_message5 = fields.String()
    media_path = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    scheduled_at = Timestamp(allow_none=True)
    started_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    paused_reason = fields.String(allow_none=True)
    contact_list_id = fields.Integer(allow_none=True)
    contact_list = fields.Nested(_Ref, allow_none=True)
    whatsapp_id = fields.Integer(allow_none=True)
    whatsapp = fields.Nested(_Ref, allow_none=True)
    file_list_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_url(self, campaign: Any) -> str | None:
        return media_url(campaign.company_id, getattr(campaign, "media_path", None))


class CampaignReportSchema(BaseSchema):
    """`GET /campaigns/<id>/report`."""

    planned = fields.Integer()
    sent = fields.Integer()
    delivered = fields.Integer()
    read = fields.Integer()
    replied = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    confirmation_asked = fields.Integer(data_key="confirmationAsked")
    confirmed = fields.Integer()


def _stamp(value: Any) -> str | None:
    """A datetime as every Timestamp field writes it ("...T14:00:00.123Z"; null stays null).

    Inlined rather than Timestamp._serialize: the report's arrays hold tens of thousands.
    """
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    # "YYYY-MM-DDTHH:MM:SS.mmm" (milliseconds truncated, as Timestamp) without "+00:00".
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def shipping_rows(rows: list[Any], campaign_id: int) -> list[dict[str, Any]]:
    """`shipping[]` of the report page from `services.campaigns.report.detail_rows` (its column
    order), built by hand: marshmallow per row is far too slow for tens of thousands of
    rows, and rows are unpacked since named access on them costs as much again."""
    return [
        {
            "id": row_id,
            "campaignId": campaign_id,
            "contactId": contact_id,
            "number": number,
            "name": name,
            "status": status,
            "confirmation": confirmation,
            "confirmationRequestedAt": _stamp(requested_at),
            "confirmedAt": _stamp(confirmed_at),
            "deliveredAt": _stamp(delivered_at),
        }
        for (
            row_id,
            contact_id,
            number,
            name,
            status,
            confirmation,
            requested_at,
            confirmed_at,
            delivered_at,
        ) in rows
    ]


def list_contacts(rows: list[Any], list_id: int | None) -> list[dict[str, Any]]:
    """`contactList.contacts[]` from `detail_rows` (its column order): `isWhatsappValid`
    is whether the campaign sends to the number, i.e. not known invalid (an unchecked
    number is sent to, so it counts)."""
    return [
        {
            "id": item_id,
            "contactListId": list_id,
            "name": name,
            "number": number,
            "email": email,
            "isWhatsappValid": valid is not False,
        }
        for item_id, name, number, email, valid in rows
    ]


class CampaignDetailSchema(CampaignSchema):
    """`GET /campaigns/<id>`: the row, its report, and what the SaaS report page counts.

    `shipping[]` (one lean row per contact of the campaign) and `contactList.contacts[]`
    (the list's numbers) come from `campaign.detail` (services.campaigns.report.DetailRows).
    `contactList` is always an object here, since the page reads `contactList.contacts`
    whenever the key exists: a campaign whose list was deleted counts its shipping rows.
    """

    report = fields.Nested(CampaignReportSchema)
    shipping = fields.Method("_shipping")
    contact_list = fields.Method("_contact_list")
    #: True when CAMPAIGN_DETAIL_ROWS_MAX cut the arrays (`report` stays exact).
    rows_truncated = fields.Method("_truncated")

    def _shipping(self, campaign: Any) -> list[dict[str, Any]]:
        return shipping_rows(campaign.detail.shipping, campaign.id)

    def _contact_list(self, campaign: Any) -> dict[str, Any]:
        ref = campaign.contact_list
        if ref is not None:
            contacts = list_contacts(campaign.detail.contacts, ref.id)
            return {"id": ref.id, "name": ref.name, "contacts": contacts}
        contacts = [
            {
                "id": r.contact_id,
                "contactListId": None,
                "name": r.name,
                "number": r.number,
                "email": None,
                "isWhatsappValid": True,
            }
            for r in campaign.detail.shipping
        ]
        return {"id": None, "name": None, "contacts": contacts}

    def _truncated(self, campaign: Any) -> bool:
        return bool(campaign.detail.truncated)


class CampaignEventSchema(CampaignDetailSchema):
    """`company-{cid}-campaign` record: `GET /campaigns/<id>` with slim array rows.

    Both report pages replace their campaign with it, and each event goes to every socket
    of the company every few seconds while a campaign sends: the arrays have the same
    rows in the same order, each with only what the page counts (CampaignReport reads
    `deliveredAt`/`confirmationRequestedAt` with `isNull`, so they are always present,
    and `isWhatsappValid`), from `detail_rows(lean=True)`. Names, numbers and e-mails
    stay out of the broadcast; the page reloads the full answer once the campaign ends.
    """

    def _shipping(self, campaign: Any) -> list[dict[str, Any]]:
        return [
            {
                "id": row_id,
                "contactId": contact_id,
                "status": status,
                "confirmationRequestedAt": _stamp(requested_at),
                "confirmedAt": _stamp(confirmed_at),
                "deliveredAt": _stamp(delivered_at),
            }
            for (
                row_id,
                contact_id,
                status,
                requested_at,
                confirmed_at,
                delivered_at,
            ) in campaign.detail.shipping
        ]

    def _contact_list(self, campaign: Any) -> dict[str, Any]:
        ref = campaign.contact_list
        if ref is not None:
            contacts = [
                {"id": item_id, "isWhatsappValid": valid is not False}
                for item_id, valid in campaign.detail.contacts
            ]
            return {"id": ref.id, "name": ref.name, "contacts": contacts}
        contacts = [{"id": r[1], "isWhatsappValid": True} for r in campaign.detail.shipping]
        return {"id": None, "name": None, "contacts": contacts}


class CampaignPageSchema(BaseSchema):
    """`{records, count, hasMore}`."""

    records = fields.List(fields.Nested(CampaignSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class Message(fields.String):
    """A campaign text: up to MESSAGE_MAX characters; null means empty."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("validate", validate.Length(max=MESSAGE_MAX))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs) or ""


class TagListId(NullableId):
    """The SaaS sends a tag id, or the text "Nenhuma" (none)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if isinstance(value, str) and not value.strip().isdigit():
            if value.strip().lower() in ("", "nenhuma", "none"):
                return None
            raise ValidationError("Must be a tag id.")
        return super()._deserialize(value, attr, data, **kwargs)


class _CampaignWriteSchema(BaseSchema):
    confirmation = fields.Boolean()
    scheduled_at = Timestamp(allow_none=True)
    contact_list_id = NullableId()
    whatsapp_id = NullableId()
    file_list_id = NullableId()
    tag_list_id = TagListId()
    message1 = Message()
    message2 = Message()
    message3 = Message()
    message4 = Message()
    message5 = Message()
    confirmation_message1 = Message()
    confirmation_message2 = Message()
    confirmation_message3 = Message()
    confirmation_message4 = Message()
    confirmation_message5 = Message()
    #: Sent by the SaaS form; the status follows from scheduledAt and the actions.
    status = fields.String(load_only=True, allow_none=True)


class CampaignCreateSchema(_CampaignWriteSchema):
    """`POST /campaigns`."""

    name = fields.String(required=True, validate=validate.Length(min=3, max=255))


class CampaignUpdateSchema(_CampaignWriteSchema):
    """`PUT /campaigns/<id>`: only the keys sent change."""

    name = fields.String(validate=validate.Length(min=3, max=255))


class ShippingSchema(BaseSchema):
    """One contact of a campaign and where its send stands."""

    id = fields.Integer()
    number = fields.String()
    name = fields.String(allow_none=True)
    status = fields.String()
    variant = fields.Integer()
    message = fields.String(allow_none=True)
    confirmation = fields.Boolean(allow_none=True)
    confirmation_requested_at = Timestamp(allow_none=True)
    confirmed_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    replied_at = Timestamp(allow_none=True)
    attempts = fields.Integer()
    error = fields.String(allow_none=True)


class ShippingPageSchema(BaseSchema):
    """`{records, count, hasMore}` of shipping rows."""

    records = fields.List(fields.Nested(ShippingSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ShippingArgsSchema(BaseSchema):
    """`?status=&pageNumber=`."""

    status = fields.String(
        load_default=None,
        validate=validate.OneOf(("pending", "claimed", "asked", "sent", "failed")),
    )
    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
