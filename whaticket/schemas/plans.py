"""Plan schemas."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.models.plan import FEATURE_FLAGS
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class TrimmedLength(validate.Length):
    """Length checked on the value without surrounding spaces (the services store names
    trimmed, so "   " or " a " must not pass a 2-character minimum); still a Length, so
    the OpenAPI spec keeps minLength/maxLength."""

    def __call__(self, value: str) -> str:
        super().__call__(value.strip())
        return value


_count = validate.Range(min=0, max=1_000_000)
_name = TrimmedLength(min=2, max=120)
#: Highest price accepted (the column is NUMERIC(12, 2)).
VALUE_MAX = Decimal("1000000000")
#: "1.234.567" / "1,234,567": a separator followed by groups of exactly three digits.
_GROUPED = re.compile(r"^[1-9]\d{0,2}([.,])\d{3}(?:\1\d{3})*$")


class Money(fields.Field):
    """A price in cents-exact Decimal, typed the way people type prices.

    PlansManager's "Valor" is free text pre-filled with `value.toLocaleString('pt-br')`, so
    it sends "29,9", "1.234,50" or "1.234" as well as 29.9 or "29.90". The last "," or "."
    followed by one or two digits is the decimal mark; the other mark separates thousands
    in groups of three ("1.234" is 1234, the only reading a price with cents allows;
    "1,234,5" is refused). More than two decimals is refused rather than rounded. Dumped
    as a JSON number.
    """

    default_error_messages = {"invalid": "Not a valid amount (e.g. 29.90 or 29,90)."}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.make_error("invalid")
        if isinstance(value, (int, float)):
            # repr: the shortest text that reads back as this float (29.9, not 29.899...).
            amount: Decimal | None = Decimal(repr(value))
        else:
            text = value.replace("R$", "").replace("\u00a0", "").replace(" ", "").strip()
            amount = _parse_amount(text)
        if amount is None or not amount.is_finite():
            raise self.make_error("invalid")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("At most two decimal places.")
        if not Decimal(0) <= amount <= VALUE_MAX:
            raise ValidationError(f"Must be between 0 and {VALUE_MAX}.")
        return amount.quantize(Decimal("0.01"))


def _parse_amount(text: str) -> Decimal | None:
    """`text` as a Decimal following Money's rules, None when it is not an amount."""
    if not text or len(text) > 32:
        return None
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    if not re.fullmatch(r"[\d.,]+", text):
        return None
    last = max(text.rfind(","), text.rfind("."))
    decimals = text[last + 1 :] if last >= 0 else ""
    if last >= 0 and 1 <= len(decimals) <= 2 and decimals.isdigit():
        whole, fraction = text[:last], decimals
    else:
        whole, fraction = text, ""
    if whole and not whole.isdigit():
        # Thousands groups, with another mark than the decimal one ("1.234,5", not "1,234,5").
        if not _GROUPED.match(whole) or (fraction and text[last] in whole):
            return None
        whole = re.sub(r"[.,]", "", whole)
    if not whole.isdigit() and not (whole == "" and fraction):
        return None
    try:
        return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}")
    except InvalidOperation:
        return None


# The seven use* flags as field mixins (marshmallow collects fields from plain
# mixin classes too): on by default at creation, untouched on update unless sent.
_FlagsDefaultOn = type(
    "_FlagsDefaultOn", (), {flag: fields.Boolean(load_default=True) for flag in FEATURE_FLAGS}
)
_Flags = type("_Flags", (), {flag: fields.Boolean() for flag in FEATURE_FLAGS})


class PlanSchema(_FlagsDefaultOn, BaseSchema):
    """A plan with its limits and feature flags (also the create payload)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=_name)
    users = fields.Integer(load_default=0, validate=_count)
    connections = fields.Integer(load_default=0, validate=_count)
    queues = fields.Integer(load_default=0, validate=_count)
    value = Money(load_default=Decimal(0))
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class PlanUpdateSchema(_Flags, BaseSchema):
    """`PUT /plans/<id>`: only the fields sent change."""

    name = fields.String(validate=_name)
    users = fields.Integer(validate=_count)
    connections = fields.Integer(validate=_count)
    queues = fields.Integer(validate=_count)
    value = Money()


class PlanFlagsSchema(_Flags, BaseSchema):
    """The limits and flags `/companies/listPlan/<id>` exposes to the frontend menu."""

    id = fields.Integer()
    name = fields.String()
    users = fields.Integer()
    connections = fields.Integer()
    queues = fields.Integer()
    value = fields.Float()


class PlanPageSchema(BaseSchema):
    """`GET /plans`: {plans, count, hasMore}."""

    plans = fields.List(fields.Nested(PlanSchema))
    count = fields.Integer()
    has_more = fields.Boolean()
