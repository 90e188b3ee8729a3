"""Contact merge schemas: the merge request, the merge record, the duplicates page."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import ID_MAX, BaseSchema, Int, PageArgsSchema
from whaticket.schemas.fields import Timestamp


class MergeRequestSchema(BaseSchema):
    """`POST /contacts/:id/merge`: `{from: [contact ids]}` (1 to 50)."""

    from_ids = fields.List(
        Int(min=1, max=ID_MAX),
        required=True,
        data_key="from",
        validate=validate.Length(min=1, max=50),
    )


class MergeSchema(BaseSchema):
    """A merge: who survived, who was folded into it, and whether it was undone."""

    id = fields.Integer()
    contact_id = fields.Integer()
    merged_ids = fields.List(fields.Integer())
    reason = fields.String()
    user_id = fields.Integer(allow_none=True)
    undone_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class DuplicateContactSchema(BaseSchema):
    """One contact of a suggested group."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()


class DuplicateGroupSchema(BaseSchema):
    """Contacts that are probably one person, and why (`same_number`, `alias_overlap`,
    `same_name_ninth_digit`)."""

    contacts = fields.List(fields.Nested(DuplicateContactSchema))
    reasons = fields.List(fields.String())


class DuplicatePageSchema(BaseSchema):
    """`GET /contacts/duplicates`: `{groups, count, hasMore}`, 20 groups per page."""

    groups = fields.List(fields.Nested(DuplicateGroupSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class DuplicateArgsSchema(PageArgsSchema):
    """`GET /contacts/duplicates`: pageNumber (searchParam is ignored)."""
