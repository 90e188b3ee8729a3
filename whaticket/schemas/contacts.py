"""Contact schemas: the SaaS row shape, create/update payloads, list and upload answers."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import Timestamp

_email_validator = validate.Email(error="Not a valid email address.")


class OptionalEmail(fields.String):
    """An e-mail that may be empty: "", null and spaces load as "" (the SaaS default)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if value is None:
            return ""
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if text:
            _email_validator(text)
            if len(text) > 255:
                raise ValidationError("Longer than maximum length 255.")
        return text


class ExtraInfoSchema(BaseSchema):
    """A custom field (`extraInfo` entry): {id, name, value}."""

    id = fields.Integer(allow_none=True, load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    value = fields.String(load_default="", allow_none=True, validate=validate.Length(max=10000))


class ContactSchema(BaseSchema):
    """A contact as the API and the `company-{cid}-contact` events carry it."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    number = fields.String()
    email = fields.String()
    profile_pic_url = fields.String(allow_none=True)
    is_group = fields.Boolean()
    company_id = fields.Integer()
    whatsapp_id = fields.Integer(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    extra_info = fields.List(fields.Nested(ExtraInfoSchema))


class ContactWhatsappSchema(BaseSchema):
    """The connection a contact last talked through, as embedded in `GET /contacts/<id>`."""

    id = fields.Integer()
    name = fields.String()


class ContactDetailSchema(ContactSchema):
    """`GET /contacts/<id>`: the row plus its connection (the SaaS includes it)."""

    whatsapp = fields.Nested(ContactWhatsappSchema, allow_none=True)


class ContactListItemSchema(ContactSchema):
    """A row of `GET /contacts/list`: the row shape without custom fields (kept lean)."""

    class Meta(BaseSchema.Meta):
        exclude = ("extra_info",)


class ContactPageSchema(BaseSchema):
    """`GET /contacts`: {contacts, count, hasMore}."""

    contacts = fields.List(fields.Nested(ContactSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ContactPageArgsSchema(PageArgsSchema):
    """`GET /contacts`: searchParam and pageNumber."""


class ContactListArgsSchema(BaseSchema):
    """`GET /contacts/list`: an optional name filter."""

    name = fields.String(load_default="", validate=validate.Length(max=255))


def _not_blank(value: str) -> None:
    """A name made only of spaces is as missing as an empty one."""
    if not value.strip():
        raise ValidationError("Must not be blank.")


_name = [validate.Length(min=1, max=255), _not_blank]


class ContactCreateSchema(BaseSchema):
    """`POST /contacts`: {name, number, email?, extraInfo?}."""

    name = fields.String(required=True, validate=_name)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = OptionalEmail(load_default="")
    extra_info = fields.List(fields.Nested(ExtraInfoSchema), load_default=list)


class ContactUpdateSchema(BaseSchema):
    """`PUT /contacts/<id>`: every field optional; extraInfo, when sent, is the full set."""

    name = fields.String(validate=_name)
    number = fields.String(validate=validate.Length(min=1, max=64))
    email = OptionalEmail()
    extra_info = fields.List(fields.Nested(ExtraInfoSchema), allow_none=True)


class FindOrCreateArgsSchema(BaseSchema):
    """`GET /contact`: number (required) and an optional name for a new contact."""

    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(load_default="", validate=validate.Length(max=255))


class UploadErrorSchema(BaseSchema):
    """A rejected row of an upload: spreadsheet row number, ERR_ code, offending value."""

    row = fields.Integer()
    error = fields.String()
    value = fields.String(allow_none=True)


class UploadResultSchema(BaseSchema):
    """`POST /contacts/upload`: {created, existing, errors}."""

    created = fields.List(fields.Nested(ContactSchema))
    existing = fields.Integer()
    errors = fields.List(fields.Nested(UploadErrorSchema))
