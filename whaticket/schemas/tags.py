"""Tag schemas: rows, pages, create/update/sync payloads, and the ticket shape tag events carry."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import Timestamp

#: #RGB or #RRGGBB.
HEX_COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
DEFAULT_COLOR = "#A4CCCC"
TAGS_PAGE_SIZE = 5000


class KanbanFlag(fields.Integer):
    """The kanban flag as 0/1; the SPA may also send true/false or "0"/"1"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        result = super()._deserialize(value, attr, data, **kwargs)
        if result not in (0, 1):
            raise ValidationError("Must be 0 or 1.")
        return result


_name = validate.Length(min=3, max=120)
_color = validate.Regexp(HEX_COLOR, error="Must be a #RGB or #RRGGBB hex colour.")


class TagSchema(BaseSchema):
    """A tag as the API returns it."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()
    kanban = fields.Integer()
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class TagRowSchema(BaseSchema):
    """A row of `GET /tags`: the tag and how many tickets carry it."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()
    kanban = fields.Integer()
    tickets_count = fields.Integer()


class TagPageSchema(BaseSchema):
    """`GET /tags`: {tags, count, hasMore}."""

    tags = fields.List(fields.Nested(TagRowSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class TagSearchArgsSchema(BaseSchema):
    """`GET /tags/list`: searchParam only."""

    search_param = fields.String(load_default="", validate=validate.Length(max=200))


class TagPageArgsSchema(PageArgsSchema):
    """`GET /tags`: searchParam and pageNumber."""


class KanbanSchema(BaseSchema):
    """`GET /tags/kanban`: {lista: [kanban tags]} (the SaaS key, Portuguese for "list")."""

    lista = fields.List(fields.Nested(TagSchema))


class TagCreateSchema(BaseSchema):
    """`POST /tags`."""

    name = fields.String(required=True, validate=_name)
    color = fields.String(load_default=DEFAULT_COLOR, validate=_color)
    kanban = KanbanFlag(load_default=0)


class TagUpdateSchema(BaseSchema):
    """`PUT /tags/<id>`: every field optional."""

    name = fields.String(validate=_name)
    color = fields.String(validate=_color)
    kanban = KanbanFlag()


class TagIdSchema(BaseSchema):
    """`{id}` of one tag in a sync payload (the SPA sends whole tags; the rest is ignored)."""

    id = fields.Integer(required=True, strict=False)


class TagSyncSchema(BaseSchema):
    """`POST /tags/sync`: {ticketId, tags: [{id}]} — the ticket's complete new tag set."""

    ticket_id = fields.Integer(required=True, strict=False)
    tags = fields.List(fields.Nested(TagIdSchema), load_default=list)


class TicketTagsResultSchema(BaseSchema):
    """The answer of a tag sync: the ticket and its tags now."""

    ticket_id = fields.Integer()
    tags = fields.List(fields.Nested(TagSchema))


class TicketTagLinkSchema(BaseSchema):
    """`PUT /ticket-tags/<ticketId>/<tagId>`: the link that now exists."""

    ticket_id = fields.Integer()
    tag_id = fields.Integer()
