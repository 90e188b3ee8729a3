"""Internal chat endpoints: the caller's chats, CRUD, messages and read marks."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.chats import (
    ChatCreateSchema,
    ChatMessageCreateSchema,
    ChatMessagePageArgsSchema,
    ChatMessagePageSchema,
    ChatPageArgsSchema,
    ChatPageSchema,
    ChatReadSchema,
    ChatSchema,
    ChatUpdateSchema,
    NewChatMessageSchema,
)
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.team import chats as chat_service

blp = Blueprint("chats", __name__, url_prefix="/chats", description="Internal chat")
blp.before_request(require_plan_feature("use_internal_chat"))


@blp.get("")
@auth_required
@blp.arguments(ChatPageArgsSchema, location="query")
@blp.response(200, ChatPageSchema)
def list_chats(args: dict) -> dict:
    """A page of the chats the caller is a member of, most recently active first."""
    rows, count, has_more = chat_service.list_chats(
        current_company_id(), current_user, args["search_param"], args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.post("")
@auth_required
@blp.arguments(ChatCreateSchema)
@blp.response(200, ChatSchema)
def create_chat(data: dict):
    """Create a chat owned by the caller with the listed users of the company."""
    chat = chat_service.create_chat(current_company_id(), data, actor=current_user)
    dbmod.commit()
    return chat


@blp.get("/<chat_ref>")
@auth_required
@blp.response(200, ChatSchema)
def show_chat(chat_ref: str):
    """One chat the caller belongs to, by uuid (or numeric id)."""
    return chat_service.get_chat(current_company_id(), chat_ref, current_user)


@blp.put("/<chat_ref>")
@auth_required
@blp.arguments(ChatUpdateSchema)
@blp.response(200, ChatSchema)
def update_chat(data: dict, chat_ref: str):
    """Retitle a chat or replace its members (owner or admin member)."""
    chat = chat_service.update_chat(current_company_id(), chat_ref, data, actor=current_user)
    dbmod.commit()
    return chat


@blp.delete("/<chat_ref>")
@auth_required
@blp.response(200)
def delete_chat(chat_ref: str) -> dict:
    """Delete a chat with its messages (owner or admin member)."""
    chat_service.delete_chat(current_company_id(), chat_ref, actor=current_user)
    dbmod.commit()
    return {"message": "Chat deleted"}


@blp.get("/<chat_ref>/messages")
@auth_required
@blp.arguments(ChatMessagePageArgsSchema, location="query")
@blp.response(200, ChatMessagePageSchema)
def list_messages(args: dict, chat_ref: str) -> dict:
    """A page of a chat's messages (page 1 newest), ascending within the page."""
    rows, count, has_more = chat_service.list_messages(
        current_company_id(), chat_ref, current_user, args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.post("/<chat_ref>/messages")
@auth_required
@blp.arguments(ChatMessageCreateSchema)
@blp.response(200, NewChatMessageSchema)
def post_message(data: dict, chat_ref: str):
    """Post a message to a chat the caller belongs to."""
    message = chat_service.post_message(
        current_company_id(), chat_ref, data["message"], actor=current_user
    )
    dbmod.commit()
    return message


@blp.post("/<chat_ref>/read")
@auth_required
@blp.arguments(ChatReadSchema)
@blp.response(200, ChatSchema)
def mark_read(data: dict, chat_ref: str):
    """Reset the caller's unread counter in a chat."""
    chat = chat_service.mark_read(
        current_company_id(), chat_ref, actor=current_user, user_id=data.get("user_id")
    )
    dbmod.commit()
    return chat
