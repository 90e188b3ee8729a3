"""Password reset: forgot-password, reset-password, and the reference's old paths (410)."""

from __future__ import annotations

from flask import Response, jsonify, request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.password_reset import (
    ForgotPasswordSchema,
    MovedSchema,
    PasswordResetAnswerSchema,
    ResetPasswordSchema,
)
from whaticket.security import PUBLIC
from whaticket.services import password_reset as reset_service

blp = Blueprint("password_reset", __name__, description="Password reset")


@blp.post("/auth/forgot-password")
@blp.arguments(ForgotPasswordSchema)
@blp.response(200, PasswordResetAnswerSchema)
@blp.doc(security=PUBLIC)
def forgot_password(data: dict) -> dict:
    """Mail a reset link if the e-mail has an account; the answer is the same either way."""
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
    return {"message": "Password changed. Log in with the new password."}


def _moved(endpoint: str) -> Response:
    """410 naming the new endpoint; the old path's e-mail, token or password is never read."""
    resp = jsonify({"error": "ERR_ENDPOINT_MOVED", "endpoint": endpoint})
    resp.status_code = 410
    return resp


@blp.post("/forgetpassword/<path:_rest>")
@blp.response(410, MovedSchema)
@blp.doc(security=PUBLIC, deprecated=True)
def old_forgot_password(_rest: str) -> Response:
    """Gone: use POST /auth/forgot-password (the e-mail no longer travels in the URL)."""
    return _moved("/auth/forgot-password")


@blp.post("/resetpasswords/<path:_rest>")
@blp.response(410, MovedSchema)
@blp.doc(security=PUBLIC, deprecated=True)
def old_reset_password(_rest: str) -> Response:
    """Gone: use POST /auth/reset-password (the token and password go in the body)."""
    return _moved("/auth/reset-password")
