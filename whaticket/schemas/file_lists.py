"""File list schemas: the list with its options (signed media URLs), pages and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.contact_list_items import ID_MAX, Name
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.queues import media_url

_message = validate.Length(max=10000)


class FileListOptionSchema(BaseSchema):
    """One file of a list: `path` is the stored path, `mediaUrl` its signed URL."""

    id = fields.Integer()
    file_id = fields.Integer()
    name = fields.String()
    path = fields.String(allow_none=True)
    media_type = fields.String(allow_none=True)
    media_url = fields.Method("_media_url")
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_url(self, option: Any) -> str | None:
        return media_url(option.company_id, option.path)


class FileListSchema(BaseSchema):
    """A file list as the API and its `company{cid}-file` events return it."""

    id = fields.Integer()
    name = fields.String()
    message = fields.String(allow_none=True)
    company_id = fields.Integer()
    options = fields.List(fields.Nested(FileListOptionSchema))
    created_at = Timestamp()
    updated_at = Timestamp()


class FileListBriefSchema(BaseSchema):
    """A row of `GET /files/list`: {id, name, message, companyId}."""

    id = fields.Integer()
    name = fields.String()
    message = fields.String(allow_none=True)
    company_id = fields.Integer()


class FileListPageSchema(BaseSchema):
    """`GET /files`: {files, count, hasMore}."""

    files = fields.List(fields.Nested(FileListSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class FileListPageArgsSchema(PageArgsSchema):
    """`GET /files`: searchParam (on the name) and pageNumber."""


class FileListListArgsSchema(BaseSchema):
    """`GET /files/list`: searchParam on the name; a companyId is read and ignored."""

    search_param = fields.String(load_default="", validate=validate.Length(max=200))
    company_id = fields.Raw()


class FileListOptionInputSchema(BaseSchema):
    """An option in a create/update payload. `path` and `mediaType` are read and ignored:
    they are set by `POST /files/uploadList/<id>` only, so a client can never point an
    option at a file it did not upload."""

    id = fields.Integer(allow_none=True, strict=False, validate=validate.Range(min=1, max=ID_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    path = fields.Raw(allow_none=True)
    media_type = fields.Raw(allow_none=True)


class FileListCreateSchema(BaseSchema):
    """`POST /files`: {name (>= 3, unique per company), message, options}."""

    name = Name(required=True)
    message = fields.String(load_default="", allow_none=True, validate=_message)
    options = fields.List(fields.Nested(FileListOptionInputSchema), load_default=list)


class FileListUpdateSchema(BaseSchema):
    """`PUT /files/<id>`: every key optional; options, when sent, are the complete set."""

    name = Name()
    message = fields.String(allow_none=True, validate=_message)
    options = fields.List(fields.Nested(FileListOptionInputSchema), allow_none=True)
