"""Quick message endpoints: page, picker list, CRUD, and the attachment (`/media-upload`)."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import MEDIA_UPLOAD_BODY, Blueprint, uploaded_file
from whaticket.schemas.quick_messages import (
    QuickMessageCreateSchema,
    QuickMessageListArgsSchema,
    QuickMessagePageArgsSchema,
    QuickMessagePageSchema,
    QuickMessageSchema,
    QuickMessageUpdateSchema,
)
from whaticket.security import auth_required, current_company_id
from whaticket.services.team import quick_messages as qm_service

blp = Blueprint(
    "quick_messages", __name__, url_prefix="/quick-messages", description="Quick messages"
)


@blp.get("")
@auth_required
@blp.arguments(QuickMessagePageArgsSchema, location="query")
@blp.response(200, QuickMessagePageSchema)
def list_messages(args: dict) -> dict:
    """A page of the replies the caller may use (company-wide plus personal)."""
    rows, count, has_more = qm_service.list_messages(
        current_company_id(),
        current_user,
        args["search_param"],
        args["page_number"],
        args.get("user_id"),
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(QuickMessageListArgsSchema, location="query")
@blp.response(200, QuickMessageSchema(many=True))
def list_all(args: dict):
    """Every reply the caller may use; a companyId in the query never widens it."""
    return qm_service.list_all(current_company_id(), current_user, args.get("user_id"))


@blp.post("")
@auth_required
@blp.arguments(QuickMessageCreateSchema)
@blp.response(200, QuickMessageSchema)
def create_message(data: dict):
    """Create a personal reply, or a company-wide one (geral: admins only)."""
    record = qm_service.create_message(current_company_id(), data, actor=current_user)
    dbmod.commit()
    return record


@blp.get("/<int:message_id>")
@auth_required
@blp.response(200, QuickMessageSchema)
def show_message(message_id: int):
    """One reply the caller may see."""
    return qm_service.get_message(current_company_id(), message_id, current_user)


@blp.put("/<int:message_id>")
@auth_required
@blp.arguments(QuickMessageUpdateSchema)
@blp.response(200, QuickMessageSchema)
def update_message(data: dict, message_id: int):
    """Edit a reply (personal: owner or admin; company-wide: admins)."""
    record = qm_service.update_message(current_company_id(), message_id, data, actor=current_user)
    dbmod.commit()
    return record


@blp.delete("/<int:message_id>")
@auth_required
@blp.response(200)
def delete_message(message_id: int) -> dict:
    """Delete a reply (personal: owner or admin; company-wide: admins)."""
    qm_service.delete_message(current_company_id(), message_id, actor=current_user)
    dbmod.commit()
    return {"message": "Quick message deleted"}


@blp.post("/<int:message_id>/media-upload")
@auth_required
@blp.doc(requestBody=MEDIA_UPLOAD_BODY)
@blp.response(200, QuickMessageSchema)
def upload_media(message_id: int):
    """Attach a file (multipart `file`; the SPA's `typeArch` is ignored), replacing any."""
    data, name, mimetype = uploaded_file()
    record = qm_service.set_media(
        current_company_id(), message_id, data, name, mimetype, actor=current_user
    )
    dbmod.commit()
    return record


@blp.delete("/<int:message_id>/media-upload")
@auth_required
@blp.response(200, QuickMessageSchema)
def delete_media(message_id: int):
    """Remove the attachment and its file."""
    record = qm_service.clear_media(current_company_id(), message_id, actor=current_user)
    dbmod.commit()
    return record
