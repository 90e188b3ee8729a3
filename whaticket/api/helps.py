"""Help video endpoints: page, list, show (any user); create, update, delete (super users)."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import Help
from whaticket.schemas.base import OkSchema
from whaticket.schemas.helps import (
    HelpCreateSchema,
    HelpPageArgsSchema,
    HelpPageSchema,
    HelpSchema,
    HelpUpdateSchema,
)
from whaticket.security import auth_required, super_required
from whaticket.services.team import helps as help_service

blp = Blueprint("helps", __name__, url_prefix="/helps", description="Help videos")


# "/helps/" is answered too, as the SaaS frontend may add the slash.
@blp.get("")
@auth_required
@blp.arguments(HelpPageArgsSchema, location="query")
@blp.response(200, HelpPageSchema)
def list_helps(args: dict) -> dict:
    """A page of help videos, by title."""
    rows, count, has_more = help_service.list_helps(args["search_param"], args["page_number"])
    return {"records": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.response(200, HelpSchema(many=True))
def list_all() -> list[Help]:
    """Every help video, by title."""
    return help_service.list_all()


@blp.post("")
@super_required
@blp.arguments(HelpCreateSchema)
@blp.response(200, HelpSchema)
def create_help(data: dict) -> Help:
    """Add a help video (super users)."""
    record = help_service.create_help(data, actor=current_user)
    dbmod.commit()
    return record


@blp.get("/<int:help_id>")
@auth_required
@blp.response(200, HelpSchema)
def show_help(help_id: int) -> Help:
    """One help video."""
    return help_service.get_help(help_id)


@blp.put("/<int:help_id>")
@super_required
@blp.arguments(HelpUpdateSchema)
@blp.response(200, HelpSchema)
def update_help(data: dict, help_id: int) -> Help:
    """Edit a help video; only the keys sent change (super users)."""
    record = help_service.update_help(help_id, data, actor=current_user)
    dbmod.commit()
    return record


@blp.delete("/<int:help_id>")
@super_required
@blp.response(200, OkSchema)
def delete_help(help_id: int) -> dict[str, str]:
    """Delete a help video (super users)."""
    help_service.delete_help(help_id, actor=current_user)
    dbmod.commit()
    return {"message": "Help deleted"}
