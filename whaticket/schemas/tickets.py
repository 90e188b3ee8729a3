"""Ticket schemas: the list/show shape, list filters, create and update payloads."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.models.ticket import TICKET_STATUSES
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp, timestamp
from whaticket.schemas.users import QueueRefSchema


class ExtraInfoRefSchema(BaseSchema):
    """A contact's custom field as the ticket drawer lists it."""

    id = fields.Integer()
    name = fields.String()
    value = fields.String()


class ContactRefSchema(BaseSchema):
    """A contact as embedded in a ticket: what the Ticket header and ContactDrawer read.

    `extraInfo` (the custom fields) comes with every contact load in one query for all of
    them (`Contact.extra_info` is selectin-loaded); list rows leave it out
    (`ContactRowSchema`), since the list query does not load it.
    """

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    email = fields.String()
    profile_pic_url = fields.String(allow_none=True)
    is_group = fields.Boolean()
    extra_info = fields.List(fields.Nested(ExtraInfoRefSchema))


class ContactRowSchema(ContactRefSchema):
    """A contact as embedded in a ticket list row (no custom fields: the rows never show
    them and the list query leaves them unloaded)."""

    class Meta(BaseSchema.Meta):
        exclude = ("extra_info",)


class UserRefSchema(BaseSchema):
    """An agent as embedded in tickets."""

    id = fields.Integer()
    name = fields.String()


class WhatsappNameSchema(BaseSchema):
    """A connection as embedded in tickets."""

    id = fields.Integer()
    name = fields.String()


class TagRefSchema(BaseSchema):
    """A tag as embedded in tickets."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()
    kanban = fields.Integer()


class TicketSchema(BaseSchema):
    """A ticket with its contact, agent, queue, connection and tags."""

    id = fields.Integer()
    uuid = fields.String()
    status = fields.String()
    unread_messages = fields.Integer()
    last_message = fields.String()
    is_group = fields.Boolean()
    from_me = fields.Boolean()
    chatbot = fields.Boolean()
    queue_option_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer()
    whatsapp_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    queue_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    #: Read back by TicketActionButtonsCustom, which sends them with every status change.
    use_integration = fields.Boolean()
    prompt_id = fields.Integer(allow_none=True)
    integration_id = fields.Integer(allow_none=True)
    contact = fields.Nested(ContactRefSchema)
    user = fields.Nested(UserRefSchema, allow_none=True)
    queue = fields.Nested(QueueRefSchema, allow_none=True)
    whatsapp = fields.Nested(WhatsappNameSchema, allow_none=True)
    tags = fields.List(fields.Nested(TagRefSchema))
    created_at = Timestamp()
    updated_at = Timestamp()
    #: {policy: {id, name}, firstResponseDueAt, nextResponseDueAt, resolutionDueAt, status}
    #: of the ticket's SLA episode; null when no policy measures it.
    sla = fields.Method("_sla")

    def _sla(self, ticket: Any) -> dict[str, Any] | None:
        """The SLA of the episode the ticket shows (`Ticket.sla_tracking`, joined)."""
        tracking = getattr(ticket, "sla_tracking", None)
        policy = tracking.sla_policy if tracking is not None else None
        if policy is None:
            return None
        return {
            "policy": {"id": policy.id, "name": policy.name},
            "firstResponseDueAt": timestamp(tracking.first_response_due_at),
            "nextResponseDueAt": timestamp(tracking.next_response_due_at),
            "resolutionDueAt": timestamp(tracking.resolution_due_at),
            "status": tracking.sla_status,
        }


class TicketRowSchema(TicketSchema):
    """A ticket as list rows carry it: the contact without its custom fields."""

    contact = fields.Nested(ContactRowSchema)


class TicketPageSchema(BaseSchema):
    """`GET /tickets`: {tickets, count, hasMore}."""

    tickets = fields.List(fields.Nested(TicketRowSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class IdList(fields.Field):
    """A list of ids sent as a JSON array string ("[1,2]"), a CSV ("1,2") or repeated values."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[int]:
        if isinstance(value, list):
            items = value
        else:
            text = str(value).strip()
            if text in ("", "[]", "null", "undefined"):
                return []
            try:
                items = json.loads(text) if text.startswith("[") else text.split(",")
            except ValueError as exc:
                raise ValidationError("Not a list of ids.") from exc
        try:
            return [int(i) for i in items if str(i).strip() != ""]
        except (TypeError, ValueError) as exc:
            raise ValidationError("Not a list of ids.") from exc


class TicketListArgsSchema(BaseSchema):
    """`GET /tickets` filters (the SaaS query names)."""

    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    search_param = fields.String(load_default="", validate=validate.Length(max=200))
    show_all = fields.Boolean(load_default=False)
    with_unread_messages = fields.Boolean(load_default=False)
    queue_ids = IdList(load_default=list)
    tags = IdList(load_default=list)
    users = IdList(load_default=list)
    date = Timestamp()
    updated_at = Timestamp()
    is_not_assigned_user = fields.Boolean(load_default=False)
    #: Tickets whose SLA episode breached a target, or is past a warning (not breached).
    sla = fields.String(validate=validate.OneOf(("breached", "at_risk")))


class TicketCreateSchema(BaseSchema):
    """`POST /tickets`."""

    contact_id = fields.Integer(required=True)
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "pending")))
    user_id = NullableId()
    queue_id = NullableId()
    whatsapp_id = NullableId()


class TicketUpdateSchema(BaseSchema):
    """`PUT /tickets/<id>`: only the keys sent change."""

    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    user_id = NullableId()
    queue_id = NullableId()
    whatsapp_id = NullableId()
    chatbot = fields.Boolean()
    queue_option_id = NullableId()
