"""Contact list schemas: the list, its page rows with counts, payloads and import answers."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.contact_list_items import ID_MAX, ContactListItemRecordSchema, Name
from whaticket.schemas.fields import Timestamp


class ContactListSchema(BaseSchema):
    """A contact list as the API and its events return it."""

    id = fields.Integer()
    name = fields.String()
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class ContactListRecordSchema(ContactListSchema):
    """A list as `company-{cid}-ContactList` create/update events carry it: the page's row
    (item and valid-item counts included) plus the company."""

    contacts_count = fields.Integer()
    valid_count = fields.Integer()


class ContactListRowSchema(BaseSchema):
    """A row of `GET /contact-lists`: the list, its item count and how many are valid."""

    id = fields.Integer()
    name = fields.String()
    contacts_count = fields.Integer()
    valid_count = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class ContactListPageSchema(BaseSchema):
    """`GET /contact-lists`: {records, count, hasMore}."""

    records = fields.List(fields.Nested(ContactListRowSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ContactListPageArgsSchema(PageArgsSchema):
    """`GET /contact-lists`: searchParam (on the name) and pageNumber."""


class ContactListListArgsSchema(BaseSchema):
    """`GET /contact-lists/list`: a companyId is read and ignored (the token decides)."""

    company_id = fields.Raw()


class ContactListCreateSchema(BaseSchema):
    """`POST /contact-lists`: {name}."""

    name = Name(required=True)


class ContactListUpdateSchema(BaseSchema):
    """`PUT /contact-lists/<id>`: {name}."""

    name = Name(required=True)


class ContactListFromTagSchema(BaseSchema):
    """`POST /contact-lists/<id>/from-tag`: {tagId}."""

    tag_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=ID_MAX))


class InvalidRowSchema(BaseSchema):
    """A row an import refused: its spreadsheet row number and an ERR_ reason."""

    row = fields.Integer()
    reason = fields.String()


class ContactListImportSchema(BaseSchema):
    """`POST /contact-lists/<id>/upload` and `/from-tag`: counts, refused rows, items."""

    created = fields.Integer()
    updated = fields.Integer()
    invalid = fields.List(fields.Nested(InvalidRowSchema))
    records = fields.List(fields.Nested(ContactListItemRecordSchema))
