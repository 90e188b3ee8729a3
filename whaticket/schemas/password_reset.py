"""Password reset schemas: forgot/reset bodies, the SaaS page's path values, the answer."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema


class ForgotPasswordSchema(BaseSchema):
    """`POST /auth/forgot-password`."""

    email = fields.Email(required=True, validate=validate.Length(max=255))


class ResetPasswordSchema(BaseSchema):
    """`POST /auth/reset-password`: the mailed token and the new password, in the body only."""

    token = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=200))
    # The same rule as a password set through /users.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=5, max=72))


class PasswordResetAnswerSchema(BaseSchema):
    """The answer of both endpoints."""

    message = fields.String()


class LegacyForgotSchema(BaseSchema):
    """`POST /forgetpassword/<email>` (the SaaS page): the e-mail, read from the path."""

    email = fields.Email(required=True, validate=validate.Length(max=255))


class LegacyResetSchema(BaseSchema):
    """`POST /resetpasswords/<email>/<code>/<password>` (the SaaS page), read from the path."""

    email = fields.Email(required=True, validate=validate.Length(max=255))
    code = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=32))
    # The same rule as a password set through /users.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=5, max=72))
