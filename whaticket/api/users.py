"""User endpoints: list, picker list, show, create, update, delete."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.schemas.users import (
    UserCreateSchema,
    UserListArgsSchema,
    UserListItemSchema,
    UserPageArgsSchema,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.team import users as user_service

blp = Blueprint("users", __name__, url_prefix="/users", description="Users of a company")


def _target_company(requested: int | None) -> int:
    """The company a request acts on: the caller's, or any for a super user."""
    if requested is None or requested == current_company_id():
        return current_company_id()
    if not current_user.super:
        raise AppError("ERR_NO_PERMISSION", 403)
    return requested


@blp.get("")
@auth_required
@blp.arguments(UserPageArgsSchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(args: dict) -> dict:
    """A page of the company's users (20 per page, newest first; super users may name one)."""
    rows, count, has_more = user_service.list_users(
        _target_company(args.get("company_id")), args["search_param"], args["page_number"]
    )
    return {"users": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserListItemSchema(many=True))
def list_all(args: dict):
    """Every user of the company, ordered by id (super users may name a company)."""
    return user_service.list_all(_target_company(args.get("company_id")))


@blp.post("")
@admin_required
@blp.arguments(UserCreateSchema)
@blp.response(200, UserSchema)
def create_user(data: dict):
    """Create a user (admins; super users may create in another company)."""
    company_id = _target_company(data.pop("company_id", None))
    user = user_service.create_user(company_id, data, actor=current_user)
    dbmod.commit()
    return user


@blp.get("/<int:user_id>")
@auth_required
@blp.response(200, UserSchema)
def show_user(user_id: int):
    """One user of the caller's company (of any company for a super user)."""
    return user_service.get_user(user_service.acting_company(current_user, user_id), user_id)


@blp.put("/<int:user_id>")
@auth_required
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
def update_user(data: dict, user_id: int):
    """Update a user: admins any field; others only their own name and password.

    Super users update any company's user; the queues must be that user's company's.
    """
    company_id = user_service.acting_company(current_user, user_id)
    user = user_service.update_user(company_id, user_id, data, actor=current_user)
    dbmod.commit()
    return user


@blp.delete("/<int:user_id>")
@admin_required
@blp.response(200)
def delete_user(user_id: int):
    """Delete a user; their open tickets return to pending (super users: any company)."""
    company_id = user_service.acting_company(current_user, user_id)
    user_service.delete_user(company_id, user_id, actor=current_user)
    dbmod.commit()
    return {"message": "User deleted"}
