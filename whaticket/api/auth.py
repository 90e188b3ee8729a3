"""Auth endpoints: login, refresh (rotating the jrt cookie), me, logout."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_jwt_extended import current_user, get_jwt

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.schemas.auth import LoginSchema, MeSchema, SessionSchema
from whaticket.security import PUBLIC, auth_required
from whaticket.services.team import auth as auth_service

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sessions and tokens")


def _cookie_options() -> dict:
    cfg = current_app.config
    return {
        "httponly": True,
        "secure": cfg["REFRESH_COOKIE_SECURE"],
        "samesite": cfg["REFRESH_COOKIE_SAMESITE"],
        "path": "/",
    }


def _session_response(session: auth_service.Session) -> Response:
    """{token, user} with the refresh token in the httpOnly `jrt` cookie."""
    body = SessionSchema().dump(
        {"token": session.access_token, "user": session.user, "settings": session.settings}
    )
    resp = jsonify(body)
    cfg = current_app.config
    resp.set_cookie(
        cfg["REFRESH_COOKIE_NAME"],
        session.refresh_token,
        max_age=int(cfg["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()),
        **_cookie_options(),
    )
    return resp


def _clear_cookie(resp: Response) -> Response:
    resp.delete_cookie(current_app.config["REFRESH_COOKIE_NAME"], **_cookie_options())
    return resp


def _refresh_cookie() -> str | None:
    return request.cookies.get(current_app.config["REFRESH_COOKIE_NAME"])


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.doc(security=PUBLIC)
def login(data: dict) -> Response:
    """Log in with e-mail and password; sets the `jrt` refresh cookie."""
    session = auth_service.login(data["email"], data["password"], request.remote_addr or "-")
    # Serialise before the commit expires the rows (else one reload per setting).
    resp = _session_response(session)
    dbmod.commit()
    return resp


@blp.post("/refresh_token")
@blp.response(200, SessionSchema)
@blp.doc(security=PUBLIC)
def refresh_token() -> Response:
    """Exchange the `jrt` cookie for a new access token and a new cookie (single use)."""
    try:
        session = auth_service.refresh(_refresh_cookie())
    except AppError as err:
        if isinstance(err, auth_service.RefreshReuseError):
            dbmod.commit()  # the family revocation must stick
        else:
            dbmod.rollback()
        return _clear_cookie(jsonify(err.body())), err.status  # type: ignore[return-value]
    resp = _session_response(session)
    dbmod.commit()
    return resp


@blp.get("/me")
@auth_required
@blp.response(200, MeSchema)
def me():
    """The caller's id, profile and super flag."""
    return current_user


@blp.delete("/logout")
@auth_required
@blp.response(200)
def logout() -> Response:
    """Log out: the user goes offline; this login's tokens and sockets stop working."""
    auth_service.logout(current_user, _refresh_cookie(), get_jwt().get("fam"))
    dbmod.commit()
    return _clear_cookie(jsonify({"message": "OK"}))
