"""File list schemas: the list with its options (signed media URLs), pages and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_file(row: Any) -> bool:
    """Whether the SaaS modal picked a file for this row (a File object serialises as {})."""
    return isinstance(row, dict) and row.get("file") is not None


def _untouched(row: Any) -> bool:
    """An empty form row: a blank name, no path, no mediaType and no picked file.

    Its id does not matter (an empty row saved before comes back with one, and dropping
    it from the complete set deletes it); a row without a `name` key at all is no form
    row and is validated as sent.
    """
    return (
        isinstance(row, dict)
        and "name" in row
        and not _has_file(row)
        and all(_blank(row.get(key)) for key in ("name", "path", "mediaType"))
    )


class FileListOptionInputSchema(BaseSchema):
    """An option in a create/update payload. `path` and `mediaType` are read and ignored:
    they are set by `POST /files/uploadList/<id>` only, so a client can never point an
    option at a file it did not upload.

    A name is required, except on a row the SaaS modal picked a file for (`file`), or a
    `placeholder` kept for position (see `_OptionRowsMixin`): their blank name is stored
    as "" and the upload names the option after its file.
    """

    id = fields.Integer(allow_none=True, strict=False, validate=validate.Range(min=1, max=ID_MAX))
    name = fields.String(load_default="", allow_none=True, validate=validate.Length(max=255))
    path = fields.Raw(allow_none=True)
    media_type = fields.Raw(allow_none=True)
    file = fields.Raw(allow_none=True, load_only=True)
    placeholder = fields.Boolean(load_default=False, load_only=True)

    @validates_schema
    def _named(self, data: dict[str, Any], **_kw: Any) -> None:
        name = (data.get("name") or "").strip()
        if not name and data.get("file") is None and not data.get("placeholder"):
            raise ValidationError({"name": ["Missing data for required field."]})

    @post_load
    def _clean(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["name"] = (data.get("name") or "").strip()
        data.pop("file", None)
        data.pop("placeholder", None)
        return data


class _OptionRowsMixin:
    """Ignores the empty rows the SaaS modal sends (its default `{name: "", path: "",
    mediaType: ""}` and every "+" row left blank), on create and update.

    The modal then uploads files pairing its rows with the answer's `options` by position,
    so a blank row *before* a row with a picked file is kept (as an unnamed placeholder,
    which a campaign skips: it has no file); dropping it would give that file to the
    wrong option.
    """

    @pre_load
    def _drop_untouched_rows(self, data: Any, **_kw: Any) -> Any:
        rows = data.get("options") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            return data
        last_file = max((i for i, row in enumerate(rows) if _has_file(row)), default=-1)
        kept = []
        for index, row in enumerate(rows):
            if not _untouched(row):
                kept.append(row)
            elif index < last_file:
                kept.append({"name": "", "placeholder": True})
        return {**data, "options": kept}


class FileListCreateSchema(_OptionRowsMixin, BaseSchema):
    """`POST /files`: {name (>= 3, unique per company), message, options}."""

    name = Name(required=True)
    message = fields.String(load_default="", allow_none=True, validate=_message)
    options = fields.List(fields.Nested(FileListOptionInputSchema), load_default=list)


class FileListUpdateSchema(_OptionRowsMixin, BaseSchema):
    """`PUT /files/<id>`: every key optional; options, when sent, are the complete set."""

    name = Name()
    message = fields.String(allow_none=True, validate=_message)
    options = fields.List(fields.Nested(FileListOptionInputSchema), allow_none=True)
