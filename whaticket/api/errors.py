"""The one place that renders every error body as {"error": "ERR_..."}, and the Api.

`register_error_handlers` answers AppError, validation, integrity, HTTP, outage (503 while
the database or Redis is unreachable) and unexpected errors with our JSON contract; what a
failed request undoes (and keeps) is handed in by the app factory (`rollback=`, `commit=`).
`WhaticketApi` documents that body in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, jsonify
from flask_smorest import Api
from marshmallow import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from whaticket.errors import AppError
from whaticket.schemas.base import ErrorSchema

# HTTP statuses raised by routing or werkzeug, mapped to the contract's codes.
_HTTP_CODES = {
    400: "ERR_BAD_REQUEST",
    401: "ERR_SESSION_EXPIRED",
    403: "ERR_NO_PERMISSION",
    404: "ERR_NOT_FOUND",
    405: "ERR_METHOD_NOT_ALLOWED",
    409: "ERR_CONFLICT",
    413: "ERR_PAYLOAD_TOO_LARGE",
    415: "ERR_UNSUPPORTED_MEDIA_TYPE",
    429: "ERR_TOO_MANY_ATTEMPTS",
}

#: What an unreachable database or Redis raises: the request may succeed once it is back.
#: (OperationalError also covers a lock wait timeout or deadlock: a retry is right there too.)
OUTAGE_ERRORS = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    RedisConnectionError,
    RedisTimeoutError,
)


def _flatten_messages(messages: Any) -> dict[str, list[str]]:
    """Merge webargs' {location: {field: [msgs]}} into {field: [msgs]}."""
    fields: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    for location_errors in messages.values():
        if not isinstance(location_errors, dict):
            fields.setdefault("_schema", []).extend(_as_list(location_errors))
            continue
        for name, errs in location_errors.items():
            fields.setdefault(str(name), []).extend(_as_list(errs))
    return fields


def _as_list(errs: Any) -> list[str]:
    """Messages as a flat list of strings (nested schemas become 'key: msg')."""
    if isinstance(errs, list):
        return [str(e) for e in errs]
    if isinstance(errs, dict):
        out: list[str] = []
        for key, val in errs.items():
            out.extend(f"{key}: {m}" for m in _as_list(val))
        return out
    return [str(errs)]


class WhaticketApi(Api):
    """flask-smorest Api that documents our `{"error", "fields"}` body; its HTTP errors are
    rendered by `register_error_handlers`, which replaces the handler smorest registers."""

    # Documents our {"error", "fields"} body instead of smorest's default one.
    ERROR_SCHEMA = ErrorSchema


#: The OpenAPI Api every blueprint is registered on (bound by create_app).
api = WhaticketApi()


def http_error_response(error: HTTPException) -> Any:
    """The response of a routing, abort() or argument-validation error (webargs' 422 is our
    400 ERR_VALIDATION with `fields`)."""
    data = getattr(error, "data", None) or {}
    if error.code in (400, 422) and "messages" in data:
        body = {"error": "ERR_VALIDATION", "fields": _flatten_messages(data["messages"])}
        return jsonify(body), 400
    if error.code and error.code >= 500:
        current_app.logger.error("HTTP %s: %s", error.code, error)
        return jsonify({"error": "ERR_INTERNAL"}), error.code
    code = data.get("message") if isinstance(data.get("message"), str) else None
    body = {"error": code or _HTTP_CODES.get(error.code or 400, "ERR_BAD_REQUEST")}
    return jsonify(body), error.code or 400, data.get("headers", {})


def register_error_handlers(
    app: Flask, *, rollback: Callable[[], None], commit: Callable[[], None]
) -> None:
    """Register the HTTP-error, AppError, IntegrityError, outage (503) and last-resort 500
    handlers.

    `rollback` undoes a failed request (its transaction and deferred side effects) and
    `commit` keeps the work of an error that asks for it (`keep_transaction`).
    """

    def _rollback() -> None:
        try:
            rollback()
        except Exception:  # a dead connection must not mask the original error
            current_app.logger.exception("rollback failed")

    def _http_error(error: HTTPException) -> Any:
        _rollback()
        return http_error_response(error)

    # Replaces the handler flask-smorest registered in `api.init_app` (create_app binds the
    # extensions first): every HTTP error leaves through our contract and rolls back.
    app.register_error_handler(HTTPException, _http_error)

    @app.errorhandler(AppError)
    def _app_error(err: AppError):
        if getattr(err, "keep_transaction", False):
            # e.g. a failed send: the message row marked failed must survive the error.
            commit()
        else:
            _rollback()
        return jsonify(err.body()), err.status, err.headers

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        # A schema loaded by hand in a view (e.g. JSON-or-multipart endpoints).
        _rollback()
        return jsonify(
            {"error": "ERR_VALIDATION", "fields": _flatten_messages({"json": err.messages})}
        ), 400

    @app.errorhandler(IntegrityError)
    def _integrity(err: IntegrityError):
        _rollback()
        current_app.logger.info("integrity error: %s", err.orig)
        return jsonify({"error": "ERR_CONFLICT"}), 409

    def _outage(err: Exception):
        _rollback()
        current_app.logger.warning("service unavailable: %s: %s", type(err).__name__, err)
        retry = str(current_app.config.get("SERVICE_RETRY_AFTER_SECONDS") or 5)
        return jsonify({"error": "ERR_SERVICE_UNAVAILABLE"}), 503, {"Retry-After": retry}

    for outage in OUTAGE_ERRORS:
        app.register_error_handler(outage, _outage)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http_error(err)
        _rollback()
        current_app.logger.exception("unhandled error")
        return jsonify({"error": "ERR_INTERNAL"}), 500
