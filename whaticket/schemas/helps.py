"""Help schemas: the record, the page, and create/update payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.schemas.announcements import TITLE_MAX
from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import StrippedText, Timestamp, TrimmedText

#: Longest description (a TEXT column; 4-byte characters included).
DESCRIPTION_MAX = 10000
#: Longest video id/URL and link (the columns are VARCHAR(500)).
URL_MAX = 500

_http_url = validate.URL(schemes={"http", "https"}, require_tld=False)


class Link(StrippedText):
    """An http(s) URL or nothing: the SPA renders it as a link, so no `javascript:`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is not None:
            _http_url(text)
        return text


class HelpSchema(BaseSchema):
    """A help video as the API and its events return it."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    video = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class HelpPageSchema(BaseSchema):
    """`GET /helps`: {records, count, hasMore}."""

    records = fields.List(fields.Nested(HelpSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class HelpPageArgsSchema(PageArgsSchema):
    """`GET /helps`: searchParam (title and description) and pageNumber."""


class HelpCreateSchema(BaseSchema):
    """`POST /helps`: title required; video is a YouTube id (the SPA embeds it) or a URL."""

    title = TrimmedText(TITLE_MAX, required=True)
    description = StrippedText(DESCRIPTION_MAX)
    video = StrippedText(URL_MAX)
    link = Link(URL_MAX)


class HelpUpdateSchema(BaseSchema):
    """`PUT /helps/<id>`: only the keys sent change; null or "" clears an optional one."""

    title = TrimmedText(TITLE_MAX)
    description = StrippedText(DESCRIPTION_MAX)
    video = StrippedText(URL_MAX)
    link = Link(URL_MAX)
