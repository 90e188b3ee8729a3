"""Internal chat schemas: the chat and message records, their pages, arguments and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.extensions import db
from whaticket.models import Chat
from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp, TrimmedText

TITLE_MAX = 255
#: Longest message; the TEXT column holds 65,535 bytes and lastMessage adds the sender's name.
MESSAGE_MAX = 10000
#: Most members one request may list (a company has far fewer users; this bounds the query).
MEMBERS_MAX = 1000


class ChatUserRefSchema(BaseSchema):
    """A member's user, as the chat list shows it."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class ChatOwnerSchema(BaseSchema):
    """The chat's owner (null once that user is deleted)."""

    id = fields.Integer()
    name = fields.String()


class ChatMemberSchema(BaseSchema):
    """One member of a chat with their unread counter (the SPA reads its own from here)."""

    chat_id = fields.Integer()
    user_id = fields.Integer()
    unreads = fields.Integer()
    user = fields.Nested(ChatUserRefSchema)


class ChatSchema(BaseSchema):
    """A chat as the API and its events return it; `users` are the members."""

    id = fields.Integer()
    uuid = fields.String()
    title = fields.String()
    owner_id = fields.Integer(allow_none=True)
    last_message = fields.String(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
    owner = fields.Nested(ChatOwnerSchema, allow_none=True)
    users = fields.List(fields.Nested(ChatMemberSchema), attribute="members")


class ChatPageSchema(BaseSchema):
    """`GET /chats`: {records, count, hasMore}."""

    records = fields.List(fields.Nested(ChatSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ChatMessageSchema(BaseSchema):
    """One chat message as the message pages return it."""

    id = fields.Integer()
    chat_id = fields.Integer()
    sender_id = fields.Integer(allow_none=True)
    message = fields.String()
    media_path = fields.String(allow_none=True)
    media_name = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    sender = fields.Nested(ChatUserRefSchema, allow_none=True)


class NewChatMessageSchema(ChatMessageSchema):
    """A message just posted, with its chat: the SPA's chat popover reads
    `newMessage.chat.users` to decide whether to ring."""

    chat = fields.Method("_chat")

    def _chat(self, obj: Any) -> dict[str, Any] | None:
        # The chat is already in the session (the service just loaded it): no query.
        chat = db.session.get(Chat, obj.chat_id)
        return ChatSchema().dump(chat) if chat is not None else None


class ChatMessagePageSchema(BaseSchema):
    """`GET /chats/<id>/messages`: {records, count, hasMore}, each page ascending."""

    records = fields.List(fields.Nested(ChatMessageSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class ChatPageArgsSchema(PageArgsSchema):
    """`GET /chats`: searchParam (on the title) and pageNumber."""


class ChatMessagePageArgsSchema(BaseSchema):
    """`GET /chats/<id>/messages`: pageNumber (1 is the newest page)."""

    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class ChatMemberRefSchema(BaseSchema):
    """`{id}` of a user to make a member (the SPA also sends the name, ignored)."""

    id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))


_members = validate.Length(max=MEMBERS_MAX)


class ChatCreateSchema(BaseSchema):
    """`POST /chats`: a title and the members besides the caller (the owner)."""

    title = TrimmedText(TITLE_MAX, required=True)
    users = fields.List(fields.Nested(ChatMemberRefSchema), load_default=list, validate=_members)


class ChatUpdateSchema(BaseSchema):
    """`PUT /chats/<id>`: a new title and/or the full new member list."""

    title = TrimmedText(TITLE_MAX)
    users = fields.List(fields.Nested(ChatMemberRefSchema), validate=_members)


class ChatMessageCreateSchema(BaseSchema):
    """`POST /chats/<id>/messages`: the text (surrounding blanks dropped)."""

    message = TrimmedText(MESSAGE_MAX, required=True)


class ChatReadSchema(BaseSchema):
    """`POST /chats/<id>/read`: userId, which may only be the caller's own (or omitted)."""

    user_id = NullableId()
