"""Scoped API token endpoints (`/api-tokens`, admins): list, show, create (the token shown
once), revoke. The tokens call the public API (`api/v1`)."""

from __future__ import annotations

from flask import Response, jsonify
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.api_tokens import (
    ApiTokenArgsSchema,
    ApiTokenCreateSchema,
    ApiTokenPageSchema,
    ApiTokenSchema,
    ApiTokenSecretSchema,
)
from whaticket.security import admin_required, current_company_id
from whaticket.services.integrations import api_tokens

blp = Blueprint(
    "api_tokens", __name__, url_prefix="/api-tokens", description="Scoped tokens of the API v1"
)


@blp.get("")
@admin_required
@blp.arguments(ApiTokenArgsSchema, location="query")
@blp.response(200, ApiTokenPageSchema)
def list_tokens(args: dict) -> dict:
    """A page of the company's tokens, newest first (never their secrets)."""
    rows, count, has_more = api_tokens.list_tokens(current_company_id(), args["page_number"])
    return {"api_tokens": rows, "count": count, "has_more": has_more}


@blp.post("")
@admin_required
@blp.arguments(ApiTokenCreateSchema)
@blp.response(201, ApiTokenSecretSchema)
def create_token(data: dict) -> Response:
    """Create a token; the answer carries it (`token`), shown this once."""
    record, secret = api_tokens.create_token(current_company_id(), current_user, data)
    body = ApiTokenSecretSchema().dump(record)
    body["token"] = secret
    dbmod.commit()
    resp = jsonify(body)
    resp.status_code = 201
    return resp


@blp.get("/<int:token_id>")
@admin_required
@blp.response(200, ApiTokenSchema)
def show_token(token_id: int):
    """One token (without its secret)."""
    return api_tokens.get_token(current_company_id(), token_id)


@blp.delete("/<int:token_id>")
@admin_required
@blp.response(200, ApiTokenSchema)
def revoke_token(token_id: int) -> Response:
    """Revoke a token: its next request is 401. The row stays, for the record."""
    body = ApiTokenSchema().dump(api_tokens.revoke_token(current_company_id(), token_id))
    dbmod.commit()
    return jsonify(body)
