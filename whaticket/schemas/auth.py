"""Auth schemas: login payload and the {token, user} session shape."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.settings import SettingSchema
from whaticket.schemas.users import QueueRefSchema


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
    queues = fields.List(fields.Nested(QueueRefSchema))
    company = fields.Method("_company")

    def _company(self, user: object) -> dict:
        from whaticket.services import settings as settings_service

        company = user.company  # type: ignore[attr-defined]
        data = SessionCompanySchema().dump(company)
        data["settings"] = SettingSchema(many=True).dump(
            settings_service.list_settings(company.id, include_secrets=user.is_admin)  # type: ignore[attr-defined]
        )
        return data


class SessionSchema(BaseSchema):
    """`{token, user}` from login and refresh."""

    token = fields.String()
    user = fields.Nested(SessionUserSchema)


class MeSchema(BaseSchema):
    """`GET /auth/me`."""

    id = fields.Integer()
    name = fields.String()
    profile = fields.String()
    super = fields.Boolean()
    company_id = fields.Integer()
