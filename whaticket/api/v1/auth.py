"""Token authentication of the public API: `@token_scope("tickets:read")` on every v1 view.

The decorator authenticates the bearer token (`services/integrations/api_access`), records
the token's last use (its own short commit, at most once a minute, so a throttled, refused
or failing call still counts as a use), counts the call per token and per company, checks
the scope, and leaves the caller for the view (`principal()`). It marks the view with its scope
(`required_scope`, read by `api/roles.py` and the tests) and documents both in OpenAPI:
the `apiToken` scheme and the operation's `x-scope`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import flask_smorest
from flask import request

from whaticket import db as dbmod
from whaticket.models.api_token import API_SCOPES
from whaticket.models.plan import FEATURE_FLAGS
from whaticket.services.integrations import api_access
from whaticket.services.integrations.api_access import Principal

F = TypeVar("F", bound=Callable[..., Any])

#: The OpenAPI security scheme of API tokens (registered with the spec by api/__init__).
SCHEME_NAME = "apiToken"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": (
        "A scoped API token (`wtk_...`, made at `/api-tokens`), or a connection's send "
        "token (scope `messages:send` on that connection). Each operation names the scope "
        "it needs in `x-scope`; without it the answer is 403 `ERR_INSUFFICIENT_SCOPE`."
    ),
}
#: Where the request's principal is kept: the WSGI environ lives exactly one request.
_ENVIRON_KEY = "whaticket.api_principal"


def principal() -> Principal:
    """The caller of the current v1 request (set by `token_scope`)."""
    return request.environ[_ENVIRON_KEY]


def token_scope(scope: str, feature: str | None = None) -> Callable[[F], F]:
    """Require an API token holding `scope`: 401 ERR_INVALID_TOKEN (missing, unknown,
    expired, revoked), 403 ERR_INSUFFICIENT_SCOPE, 429 past the token's or company's rate;
    with `feature`, 403 ERR_PLAN_FEATURE_DISABLED while the company's plan has it off."""
    if scope not in API_SCOPES:  # a misspelt scope would be one nobody can hold
        raise ValueError(f"unknown API scope {scope!r}")
    if feature is not None and feature not in FEATURE_FLAGS:  # one that would read as "on"
        raise ValueError(f"unknown plan feature {feature!r}")

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = api_access.authenticate(
                request.headers.get("Authorization"), request.remote_addr or "-"
            )
            if api_access.touch(caller):
                dbmod.commit()  # before the checks: a throttled or refused call is a use too
            api_access.throttle(caller)
            api_access.require_scope(caller, scope)
            if feature is not None:
                api_access.require_feature(caller, feature)
            request.environ[_ENVIRON_KEY] = caller
            return fn(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]
        extra = {"x-scope": scope}
        if feature is not None:
            extra["x-plan-feature"] = feature
        documented = flask_smorest.Blueprint.doc(security=[{SCHEME_NAME: []}], **extra)(wrapper)
        return documented  # type: ignore[no-any-return]

    return decorator
