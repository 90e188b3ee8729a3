"""Password reset: forgot-password, reset-password, and the SaaS page's path-based twins."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.password_reset import (
    ForgotPasswordSchema,
    LegacyForgotSchema,
    LegacyResetSchema,
    PasswordResetAnswerSchema,
    ResetPasswordSchema,
)
from whaticket.security import PUBLIC
from whaticket.services.team import password_reset as reset_service

blp = Blueprint("password_reset", __name__, description="Password reset")

#: The answer of a successful reset, on both paths.
CHANGED = "Password changed. Log in with the new password."


@blp.post("/auth/forgot-password")
@blp.arguments(ForgotPasswordSchema)
@blp.response(200, PasswordResetAnswerSchema)
@blp.doc(security=PUBLIC)
def forgot_password(data: dict) -> dict:
    """Mail a reset link and code if the e-mail has an account; one answer for every e-mail."""
    message = reset_service.request_reset(data["email"], request.remote_addr or "-")
    dbmod.commit()
    return {"message": message}


@blp.post("/auth/reset-password")
@blp.arguments(ResetPasswordSchema)
@blp.response(200, PasswordResetAnswerSchema)
@blp.doc(security=PUBLIC)
def reset_password(data: dict) -> dict:
    """Set a new password with a mailed token (single use, one hour); every session ends."""
    reset_service.reset_password(data["token"], data["password"], request.remote_addr or "-")
    dbmod.commit()
    return {"message": CHANGED}


# The SaaS "Esqueceu sua senha?" page (src/pages/ForgetPassWord) sends everything in the
# path. The paths are redacted from every log record (utils/logredact.py); merge_slashes is
# off so a password holding "//" is not rewritten by a redirect.


@blp.post("/forgetpassword/<path:email>", merge_slashes=False)
@blp.response(200, PasswordResetAnswerSchema)
@blp.doc(security=PUBLIC, deprecated=True)
def legacy_forgot_password(email: str) -> dict:
    """POST /auth/forgot-password with the e-mail in the path: the same answer for every e-mail."""
    data = LegacyForgotSchema().load({"email": email})
    message = reset_service.request_reset(data["email"], request.remote_addr or "-")
    dbmod.commit()
    return {"message": message}


@blp.post("/resetpasswords/<path:rest>", merge_slashes=False)
@blp.response(200, PasswordResetAnswerSchema)
@blp.doc(security=PUBLIC, deprecated=True)
def legacy_reset_password(rest: str) -> dict:
    """`/resetpasswords/<email>/<code>/<password>`: the mailed code sets a new password."""
    email, _, tail = rest.partition("/")
    code, _, password = tail.partition("/")
    if request.query_string:
        # The page does not encode the password: a "?" in it starts the query string.
        password += "?" + unquote_to_bytes(request.query_string).decode("utf-8", "replace")
    data = LegacyResetSchema().load({"email": email, "code": code, "password": password})
    reset_service.reset_password_with_code(
        data["email"], data["code"], data["password"], request.remote_addr or "-"
    )
    dbmod.commit()
    return {"message": CHANGED}
