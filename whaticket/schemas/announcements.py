"""Announcement schemas: the public record, the page, list arguments and write payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import Timestamp, TrimmedText
from whaticket.schemas.queues import media_url
from whaticket.utils.media_urls import public_path

#: Longest title (the column is VARCHAR(255)).
TITLE_MAX = 255
#: Longest text (a TEXT column holds 65,535 bytes; 4-byte characters included).
TEXT_MAX = 10000
#: 1 high, 2 medium, 3 low (the SaaS default is low).
PRIORITIES = (1, 2, 3)


class BodyText(fields.String):
    """The announcement text: null is stored as "" (the column is not nullable)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("validate", validate.Length(max=TEXT_MAX))
        super().__init__(**kwargs)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        """Turn an explicit null into "" before validation."""
        result = super().deserialize(value, attr, data, **kwargs)
        return "" if result is None else result


class Priority(fields.Integer):
    """1 (high), 2 (medium) or 3 (low); "2" is accepted as the SPA's selects may send it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.OneOf(PRIORITIES))
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):  # True would otherwise pass as 1
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class AnnouncementSchema(BaseSchema):
    """An announcement as every company sees it: no trace of the publishing company."""

    id = fields.Integer()
    priority = fields.Integer()
    title = fields.String()
    text = fields.String()
    # The SaaS frontend shows `${BACKEND}/public/${mediaPath}`: the signed path after
    # `/public/` keeps that working; `mediaUrl` is the whole signed URL for other clients.
    media_path = fields.Method("_media_path")
    media_url = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    status = fields.Boolean()
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_path(self, record: Any) -> str | None:
        """`<cid>/announcements/<file>?sig=...`, loadable by users of any company."""
        if record.company_id is None or not record.media_path:
            # The publisher's company (and with it the file's folder) is gone.
            return None
        return public_path(record.company_id, record.media_path)

    def _media_url(self, record: Any) -> str | None:
        """The whole signed URL of the image."""
        if record.company_id is None:
            return None
        return media_url(record.company_id, record.media_path)


class AnnouncementPageSchema(BaseSchema):
    """`GET /announcements`: {records, count, hasMore}."""

    records = fields.List(fields.Nested(AnnouncementSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class AnnouncementPageArgsSchema(PageArgsSchema):
    """`GET /announcements`: searchParam (title and text) and pageNumber."""


class AnnouncementListArgsSchema(BaseSchema):
    """`GET /announcements/list`: searchParam; the SaaS companyId is read and ignored."""

    search_param = fields.String(load_default="", validate=validate.Length(max=200))


class AnnouncementCreateSchema(BaseSchema):
    """`POST /announcements`: title required; priority 3 and active unless told otherwise.
    mediaPath/mediaName are not accepted here: media only arrive through media-upload."""

    priority = Priority(load_default=3)
    title = TrimmedText(TITLE_MAX, required=True)
    text = BodyText(load_default="")
    status = fields.Boolean(load_default=True)


class AnnouncementUpdateSchema(BaseSchema):
    """`PUT /announcements/<id>`: only the keys sent change (the SPA sends the whole row,
    read-only keys included; they are ignored)."""

    priority = Priority()
    title = TrimmedText(TITLE_MAX)
    text = BodyText()
    status = fields.Boolean()
