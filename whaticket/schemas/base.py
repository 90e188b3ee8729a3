"""BaseSchema (snake_case attributes <-> camelCase JSON) and shared argument schemas."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


def camelcase(name: str) -> str:
    """snake_case -> camelCase ("company_id" -> "companyId")."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class BaseSchema(Schema):
    """Every schema: camelCase keys on the wire, unknown keys ignored."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Give each field a camelCase data_key unless it sets its own."""
        field_obj.data_key = field_obj.data_key or camelcase(field_name)


class PageArgsSchema(BaseSchema):
    """`searchParam` and 1-based `pageNumber`, as every SaaS index endpoint takes."""

    search_param = fields.String(load_default="", validate=validate.Length(max=200))
    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class ErrorSchema(BaseSchema):
    """The error body: {"error": "ERR_...", "fields": {...}}."""

    error = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")


class OkSchema(BaseSchema):
    """A plain acknowledgement."""

    message = fields.String()
