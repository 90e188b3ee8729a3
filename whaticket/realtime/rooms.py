"""Room names, computed by the server only and always scoped by company."""

from __future__ import annotations

TICKET_STATUSES = ("pending", "open", "closed", "group")


def mainchannel(company_id: int) -> str:
    """Every socket of a company."""
    return f"company-{company_id}-mainchannel"


def user_room(user_id: int) -> str:
    """Every socket of one user (user ids are global, so this cannot cross companies)."""
    return f"user-{user_id}"


def session_room(family: str) -> str:
    """Every socket of one login (the refresh-token family its access tokens carry)."""
    return f"session-{family}"


def status_room(company_id: int, status: str) -> str:
    """Admins watching tickets of one status."""
    return f"company-{company_id}-{status}"


def notification_room(company_id: int) -> str:
    """Admins receiving notifications."""
    return f"company-{company_id}-notification"


def queue_room(company_id: int, queue_id: int | None, kind: str) -> str:
    """Agents of one queue (or of queue-less tickets) for a status or notifications."""
    qid = "null" if queue_id is None else str(queue_id)
    return f"company-{company_id}-queue-{qid}-{kind}"


def ticket_room(company_id: int, ticket_id: int) -> str:
    """Sockets that opened one ticket's chat box."""
    return f"company-{company_id}-ticket-{ticket_id}"


def announcements() -> str:
    """Every authenticated socket, of every company: global content (announcements, helps)."""
    return "announcements"


def super_users() -> str:
    """The sockets of super users (they also see inactive announcements)."""
    return "super-users"
