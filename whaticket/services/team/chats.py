"""Internal chat: private conversations between users of one company, with unread counters.

A chat is visible only to its members: every lookup is by (company, uuid or id) AND
membership, so a non-member (even an admin of the same company) gets 404 exactly like a
missing chat. Events go to the members' own `user-{uid}` rooms only; the SaaS sent them to
the company's mainchannel, which showed private conversations to everyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Chat, ChatMessage, ChatUser, User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit, emit_to_user
from whaticket.schemas.chats import ChatSchema, NewChatMessageSchema
from whaticket.utils.pagination import paginate, search_filter

NOT_FOUND = "ERR_NO_CHAT_FOUND"
#: Longest numeric id accepted in a path (anything longer cannot be a row id).
_ID_DIGITS = 18


def _ref_filter(chat_ref: str) -> sa.ColumnElement[bool] | None:
    """A path reference as SQL: the SPA uses the uuid in URLs and the numeric id in API calls."""
    if chat_ref.isdigit():
        return Chat.id == int(chat_ref) if len(chat_ref) <= _ID_DIGITS else None
    return Chat.uuid == chat_ref if len(chat_ref) <= 36 else None


def _is_member(user_id: int) -> sa.ColumnElement[bool]:
    """The chat has `user_id` among its members."""
    return Chat.members.any(ChatUser.user_id == user_id)


def list_chats(
    company_id: int, actor: User, search: str, page_number: int
) -> tuple[list[Chat], int, bool]:
    """A page (20) of the caller's chats, most recently active first, searched on the title."""
    stmt = (
        sa.select(Chat)
        .where(Chat.company_id == company_id, _is_member(actor.id))
        .order_by(Chat.updated_at.desc(), Chat.id.desc())
    )
    if search:
        stmt = stmt.where(search_filter(search, Chat.title))
    return paginate(stmt, page_number)


def get_chat(company_id: int, chat_ref: str, actor: User) -> Chat:
    """A chat of the caller's company that the caller belongs to; anything else is 404."""
    where = _ref_filter(chat_ref)
    if where is None:
        raise AppError(NOT_FOUND, 404)
    chat = db.session.scalar(
        sa.select(Chat).where(Chat.company_id == company_id, where, _is_member(actor.id))
    )
    if chat is None:
        raise AppError(NOT_FOUND, 404)
    return chat


def _check_can_manage(chat: Chat, actor: User) -> None:
    """Editing and deleting is for the owner or an admin (who is a member: get_chat ran)."""
    if chat.owner_id != actor.id and not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)


def _company_user_ids(company_id: int, members: Iterable[dict[str, Any]]) -> list[int]:
    """The listed member ids, deduplicated in order; 400 if any is not a user of the company."""
    ids = list(dict.fromkeys(int(m["id"]) for m in members))
    if not ids:
        return []
    found = set(
        db.session.scalars(
            sa.select(User.id).where(User.company_id == company_id, User.id.in_(ids))
        )
    )
    if len(found) != len(ids):
        # Another company's user and a missing one answer alike, so ids reveal nothing.
        raise AppError("ERR_INVALID_CHAT_MEMBER", 400)
    return ids


def create_chat(company_id: int, data: dict[str, Any], *, actor: User) -> Chat:
    """Create a chat owned by the caller, who becomes a member with the listed users."""
    member_ids = [uid for uid in _company_user_ids(company_id, data["users"]) if uid != actor.id]
    chat = Chat(company_id=company_id, owner=actor, title=data["title"], last_message="")
    chat.members = [ChatUser(user_id=uid) for uid in [actor.id, *member_ids]]
    db.session.add(chat)
    db.session.flush()
    record = payload(chat)
    for member in chat.members:
        _emit_chat_user(company_id, member.user_id, "create", record)
    return chat


def update_chat(company_id: int, chat_ref: str, data: dict[str, Any], *, actor: User) -> Chat:
    """Retitle a chat and/or replace its members; kept members keep their unread counters."""
    chat = get_chat(company_id, chat_ref, actor)
    _check_can_manage(chat, actor)
    if data.get("title") is not None:
        chat.title = data["title"]
    old_ids = {m.user_id for m in chat.members}
    removed: set[int] = set()
    if data.get("users") is not None:
        wanted = _company_user_ids(company_id, data["users"])
        if chat.owner_id is not None and chat.owner_id not in wanted:
            wanted.insert(0, chat.owner_id)  # the owner always stays
        if not wanted:
            # Ownerless (its owner was deleted) and emptied: nobody could ever see it again.
            wanted = [actor.id]
        for member in list(chat.members):
            if member.user_id not in wanted:
                chat.members.remove(member)  # delete-orphan removes the row
        for uid in wanted:
            if uid not in old_ids:
                chat.members.append(ChatUser(user_id=uid))
        removed = old_ids - set(wanted)
    db.session.flush()
    record = payload(chat)
    for member in chat.members:
        # A newly added member has no such chat in their list: the SPA's "update" handler
        # only replaces chats it already shows, so they get "create" to have it appear.
        action = "update" if member.user_id in old_ids else "create"
        _emit_chat_user(company_id, member.user_id, action, record)
    if removed:
        # The SPA drops a chat on this event; only the removed members receive it.
        emit(
            f"company-{company_id}-chat",
            {"action": "delete", "id": chat.id},
            [rooms.user_room(uid) for uid in sorted(removed)],
        )
    return chat


def delete_chat(company_id: int, chat_ref: str, *, actor: User) -> None:
    """Delete a chat, its members and messages (owner or admin member)."""
    chat = get_chat(company_id, chat_ref, actor)
    _check_can_manage(chat, actor)
    chat_id, member_ids = chat.id, [m.user_id for m in chat.members]
    # Messages have no ORM relationship to cascade through; remove them explicitly.
    db.session.execute(sa.delete(ChatMessage).where(ChatMessage.chat_id == chat_id))
    db.session.delete(chat)
    db.session.flush()
    emit(
        f"company-{company_id}-chat",
        {"action": "delete", "id": chat_id},
        [rooms.user_room(uid) for uid in member_ids],
    )


def list_messages(
    company_id: int, chat_ref: str, actor: User, page_number: int
) -> tuple[list[ChatMessage], int, bool]:
    """A page (20) of a chat's messages: page 1 is the newest, each page in ascending order."""
    chat = get_chat(company_id, chat_ref, actor)
    stmt = (
        sa.select(ChatMessage)
        .where(ChatMessage.company_id == company_id, ChatMessage.chat_id == chat.id)
        .order_by(ChatMessage.id.desc())
    )
    rows, count, has_more = paginate(stmt, page_number)
    rows.reverse()  # the SPA prepends older pages and appends each page as it comes
    return rows, count, has_more


def post_message(company_id: int, chat_ref: str, text: str, *, actor: User) -> ChatMessage:
    """Store a message, update the chat's summary and every member's unread counter."""
    chat = get_chat(company_id, chat_ref, actor)
    message = ChatMessage(
        company_id=company_id, chat_id=chat.id, sender_id=actor.id, sender=actor, message=text
    )
    db.session.add(message)
    chat.last_message = f"{actor.name}: {text}"
    # Explicit: the list is ordered by activity, even when the text repeats the last one.
    chat.updated_at = utcnow()
    # One UPDATE computed by the database, so concurrent posts never lose an increment
    # (a read-modify-write of each member's counter would).
    db.session.execute(
        sa.update(ChatUser)
        .where(ChatUser.chat_id == chat.id)
        .values(unreads=sa.case((ChatUser.user_id == actor.id, 0), else_=ChatUser.unreads + 1))
        .execution_options(synchronize_session=False)
    )
    # Reload the counters the UPDATE set, all members in one query.
    db.session.scalars(
        sa.select(ChatUser)
        .where(ChatUser.chat_id == chat.id)
        .execution_options(populate_existing=True)
    ).all()
    data = {
        "action": "new-message",
        "newMessage": NewChatMessageSchema().dump(message),
        "chat": payload(chat),
    }
    targets = _member_rooms(chat)
    # The open conversation listens on the numeric-id event, the header popover on the other.
    emit(f"company-{company_id}-chat-{chat.id}", data, targets)
    emit(f"company-{company_id}-chat", data, targets)
    return message


def mark_read(company_id: int, chat_ref: str, *, actor: User, user_id: int | None) -> Chat:
    """Reset the caller's unread counter; nobody resets another member's."""
    chat = get_chat(company_id, chat_ref, actor)
    if user_id is not None and user_id != actor.id:
        raise AppError("ERR_NO_PERMISSION", 403)
    for member in chat.members:
        if member.user_id == actor.id:
            member.unreads = 0
    db.session.flush()
    data = {"action": "update", "chat": payload(chat)}
    # Only the caller's own views change (their badge); the others' counters did not move.
    emit_to_user(company_id, actor.id, f"chat-{chat.id}", data)
    emit_to_user(company_id, actor.id, "chat", data)
    return chat


def _member_rooms(chat: Chat) -> list[str]:
    """The `user-{uid}` room of every member."""
    return [rooms.user_room(m.user_id) for m in chat.members]


def _emit_chat_user(company_id: int, user_id: int, action: str, record: dict[str, Any]) -> None:
    """`company-{cid}-chat-user-{uid}` to that user's sockets (the SPA's chat page listens)."""
    emit_to_user(company_id, user_id, f"chat-user-{user_id}", {"action": action, "record": record})


def payload(chat: Chat) -> dict[str, Any]:
    """The chat as events carry it."""
    return ChatSchema().dump(chat)
