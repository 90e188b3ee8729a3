"""Auth schemas: login payload and the {token, user} session shape."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_dump, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.settings import SettingSchema
from whaticket.schemas.users import UserQueuesField


class LoginSchema(BaseSchema):
    """`POST /auth/login`."""

    email = fields.String(required=True, validate=validate.Length(min=1, max=255))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=200)
    )


class SessionCompanySchema(BaseSchema):
    """The company embedded in the session user (the SPA reads dueDate and settings)."""

    id = fields.Integer()
    name = fields.String()
    status = fields.Boolean()
    due_date = Timestamp(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    # Filled in by SessionSchema from the session (masked for agents), never from the
    # company row: the attribute does not exist, so plain dumps leave it out.
    settings = fields.List(fields.Nested(SettingSchema), attribute="_session_settings")


class SessionUserSchema(BaseSchema):
    """The user of `{token, user}`."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    profile = fields.String()
    super = fields.Boolean()
    company_id = fields.Integer()
    all_ticket = fields.String()
    whatsapp_id = fields.Integer(allow_none=True)
    queues = UserQueuesField()
    company = fields.Nested(SessionCompanySchema)


class SessionSchema(BaseSchema):
    """`{token, user}` from login and refresh."""

    token = fields.String()
    user = fields.Nested(SessionUserSchema)

    @post_dump(pass_original=True)
    def _company_settings(self, data: dict, original: Any, **_kw: Any) -> dict:
        """Place the session's settings inside user.company, where the SPA reads them."""
        settings = getattr(original, "settings", None)
        if settings is None and isinstance(original, dict):
            settings = original.get("settings")
        if data.get("user", {}).get("company") is not None:
            data["user"]["company"]["settings"] = SettingSchema(many=True).dump(settings or [])
        return data


class MeSchema(BaseSchema):
    """`GET /auth/me`."""

    id = fields.Integer()
    name = fields.String()
    profile = fields.String()
    super = fields.Boolean()
    company_id = fields.Integer()
