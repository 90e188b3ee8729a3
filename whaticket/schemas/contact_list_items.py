"""Contact list item schemas: the item shape, its page, list arguments and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.schemas.base import ID_MAX, BaseSchema, PageArgsSchema
from whaticket.schemas.contacts import OptionalEmail
from whaticket.schemas.fields import Timestamp

_id = validate.Range(min=1, max=ID_MAX)


class Name(fields.String):
    """A name with surrounding blanks dropped, then 3 to 255 characters (the SaaS minimum)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 3 <= len(text) <= 255:
            raise ValidationError("Length must be between 3 and 255.")
        return text


class ContactListItemRecordSchema(BaseSchema):
    """A contact list item as the API and its events return it."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    email = fields.String(allow_none=True)
    is_whatsapp_valid = fields.Boolean(allow_none=True)
    company_id = fields.Integer()
    contact_list_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class ContactListItemPageSchema(BaseSchema):
    """`GET /contact-list-items`: {contacts, count, hasMore}."""

    contacts = fields.List(fields.Nested(ContactListItemRecordSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ContactListItemPageArgsSchema(PageArgsSchema):
    """`GET /contact-list-items`: contactListId (required), searchParam, pageNumber."""

    contact_list_id = fields.Integer(required=True, strict=False, validate=_id)


class ContactListItemListArgsSchema(BaseSchema):
    """`GET /contact-list-items/list`: contactListId; a companyId is read and ignored."""

    contact_list_id = fields.Integer(required=True, strict=False, validate=_id)
    company_id = fields.Raw()


class ContactListItemCreateSchema(BaseSchema):
    """`POST /contact-list-items`: {name, number, email?, contactListId}."""

    name = Name(required=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = OptionalEmail(load_default="")
    contact_list_id = fields.Integer(required=True, strict=False, validate=_id)


class ContactListItemUpdateSchema(BaseSchema):
    """`PUT /contact-list-items/<id>`: every field optional (the list never changes)."""

    name = Name()
    number = fields.String(validate=validate.Length(min=1, max=64))
    email = OptionalEmail()
