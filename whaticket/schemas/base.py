"""BaseSchema (snake_case attributes <-> camelCase JSON) and shared argument schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

#: What an INT column holds on MariaDB/MySQL and PostgreSQL (SQLite takes 64 bits and fails
#: past them): every id and integer the API reads is bounded to it, so a larger number is a
#: 400 ERR_VALIDATION (in a path, `api.base.IdConverter`: a 404), never a 500.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
#: The largest row id (ids are INT columns).
ID_MAX = INT_MAX


class IntRange(validate.Range):
    """Range that lets None through: a nullable id (`NullableId`) loads "" and 0 as None."""

    def __call__(self, value: Any) -> Any:
        return value if value is None else super().__call__(value)


class Int(fields.Integer):
    """An integer bounded to what its column holds: INT, or the `min`/`max` given."""

    def __init__(self, *, min: int = INT_MIN, max: int = INT_MAX, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A validator (not a check in _deserialize), so the OpenAPI document shows the bounds.
        self.validators.insert(0, IntRange(min=min, max=max))


class Id(Int):
    """A row id: 1 to INT_MAX; digits in a string are taken too (query strings, the SPA)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", False)
        super().__init__(min=1, max=ID_MAX, **kwargs)


def _bound_integers(field: fields.Field) -> None:
    """Bound a plain Integer field (and the items of a List, Tuple or Dict) to INT."""
    # `_int_bounded`: a field bound twice (a schema instance reused) keeps one validator.
    plain = isinstance(field, fields.Integer) and not isinstance(field, Int)
    if plain and not getattr(field, "_int_bounded", False):
        field.validators.append(IntRange(min=INT_MIN, max=INT_MAX))
        field._int_bounded = True  # type: ignore[attr-defined]
    for inner in (
        getattr(field, "inner", None),
        getattr(field, "value_field", None),
        *(getattr(field, "tuple_fields", None) or ()),
    ):
        if isinstance(inner, fields.Field):
            _bound_integers(inner)


def camelcase(name: str) -> str:
    """snake_case -> camelCase ("company_id" -> "companyId")."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class BaseSchema(Schema):
    """Every schema: camelCase keys on the wire, unknown keys ignored, integers bounded."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Give each field a camelCase data_key unless it sets its own; bound its integers.

        Every integer a schema reads is an `Int`/`Id`, or is given the INT bounds here: one
        place that no id or count written as a plain `fields.Integer` can escape.
        """
        field_obj.data_key = field_obj.data_key or camelcase(field_name)
        _bound_integers(field_obj)


class PageArgsSchema(BaseSchema):
    """`searchParam` and 1-based `pageNumber`, as every SaaS index endpoint takes."""

    search_param = fields.String(load_default="", validate=validate.Length(max=200))
    page_number = Int(load_default=1, min=1, max=100000)


class ErrorSchema(BaseSchema):
    """The error body: {"error": "ERR_...", "fields": {...}}."""

    error = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")


class OkSchema(BaseSchema):
    """A plain acknowledgement."""

    message = fields.String()
