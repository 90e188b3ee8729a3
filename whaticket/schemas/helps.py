"""Help schemas: the record, the page, and create/update payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.announcements import Title
from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import Timestamp

#: Longest description (a TEXT column; 4-byte characters included).
DESCRIPTION_MAX = 10000
#: Longest video id/URL and link (the columns are VARCHAR(500)).
URL_MAX = 500

_http_url = validate.URL(schemes={"http", "https"}, require_tld=False)


class OptionalString(fields.String):
    """Optional text: surrounding blanks dropped; blank or null is stored as null."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > self.max_length:
            raise ValidationError(f"Longer than maximum length {self.max_length}.")
        return text or None


class Link(OptionalString):
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

    title = Title(required=True)
    description = OptionalString(DESCRIPTION_MAX)
    video = OptionalString(URL_MAX)
    link = Link(URL_MAX)


class HelpUpdateSchema(BaseSchema):
    """`PUT /helps/<id>`: only the keys sent change; null or "" clears an optional one."""

    title = Title()
    description = OptionalString(DESCRIPTION_MAX)
    video = OptionalString(URL_MAX)
    link = Link(URL_MAX)
