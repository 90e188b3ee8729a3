"""Who may call each write route (POST/PUT/PATCH/DELETE): one table, enforced by one hook.

`ROLES` names every write endpoint (`blueprint.view`, as in `app.url_map`) with the least
role that may call it; `install(app)` checks it before any view runs. A test walks the URL
map: a write route missing from the table (or an entry with no route) fails the suite, and
a write route of ours missing from it is refused at run time (fail closed).

The split follows the SaaS screens: agents work tickets, messages, contacts, ticket notes
and tags, their quick messages, schedules and the internal chat; admins run the company
(users, queues, connections, campaigns and their contact and file lists, settings,
integrations, prompts, billing); super users run the platform (companies, plans, invoices,
helps, announcements). Services still check finer rules (whose note, whose quick message,
which user may edit which profile).
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_jwt_extended import current_user, verify_jwt_in_request

from whaticket.errors import AppError

#: No access token: the route authenticates otherwise (signature, connection token) or not.
PUBLIC = "public"
#: Any signed-in user of the company (an agent).
USER = "user"
#: The company's admins (and super users).
ADMIN = "admin"
#: Super users only.
SUPER = "super"
#: A scoped API token (the public API, `api/v1`): the view's `token_scope` decorator
#: authenticates it and checks its scope; the table only insists the view has one.
TOKEN = "token"

#: The methods that change something; reads are left to each view's own decorator.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ROLES: dict[str, str] = {
    # -- signing in, signing up, passwords, inbound webhooks, the external API
    "auth.login": PUBLIC,
    "auth.refresh_token": PUBLIC,
    "auth.logout": USER,
    "password_reset.forgot_password": PUBLIC,
    "password_reset.reset_password": PUBLIC,
    "password_reset.legacy_forgot_password": PUBLIC,
    "password_reset.legacy_reset_password": PUBLIC,
    "companies.signup": PUBLIC,
    "webhooks_cloud.receive": PUBLIC,  # signed by the provider
    "webhooks_cloud.receive_one": PUBLIC,
    "webhooks_evolution.receive": PUBLIC,  # the connection's secret in the path
    "subscriptions.webhook": PUBLIC,  # verified with the payment provider
    "subscriptions.webhook_default": PUBLIC,
    "subscriptions.webhook_pix": PUBLIC,
    "external.send_message": PUBLIC,  # the connection's API token
    # -- agents: tickets and what hangs off them
    "tickets.create_ticket": USER,
    "tickets.update_ticket": USER,
    "tickets.delete_ticket": ADMIN,  # the SPA shows "delete" to admins only
    "messages.send_message": USER,
    "messages.send_template": USER,
    "messages.delete_message": USER,
    "messages.retry_media": USER,
    "ticket_notes.create_note": USER,
    "ticket_notes.update_note": USER,
    "ticket_notes.delete_note": USER,  # the author, or an admin (service)
    "ticket_tags.add_tag": USER,  # Kanban moves
    "ticket_tags.remove_kanban_tags": USER,
    "tags.create_tag": USER,
    "tags.sync_tags": USER,
    "tags.update_tag": ADMIN,
    "tags.delete_tag": ADMIN,
    "sla_policies.create_policy": ADMIN,
    "sla_policies.update_policy": ADMIN,
    "sla_policies.delete_policy": ADMIN,
    "contacts.create_contact": USER,
    "contacts.update_contact": USER,
    "contacts.upload_contacts": USER,
    "contacts.import_phone_contacts": USER,
    "contacts.delete_contact": ADMIN,  # the SPA shows "delete" to admins only
    "contact_merges.merge_contacts": ADMIN,
    "contact_merges.undo_merge": ADMIN,
    "quick_messages.create_message": USER,  # their own; company-wide ones: admins (service)
    "quick_messages.update_message": USER,
    "quick_messages.delete_message": USER,
    "quick_messages.upload_media": USER,
    "quick_messages.delete_media": USER,
    "schedules.create_schedule": USER,
    "schedules.update_schedule": USER,
    "schedules.delete_schedule": USER,
    "schedules.upload_schedule_media": USER,
    "schedules.delete_schedule_media": USER,
    "chats.create_chat": USER,
    "chats.update_chat": USER,  # the owner, or an admin (service)
    "chats.delete_chat": USER,
    "chats.post_message": USER,
    "chats.mark_read": USER,
    "users.update_user": USER,  # their own profile; others: admins (service)
    # -- admins: the company's team, channels and settings
    "users.create_user": ADMIN,
    "users.delete_user": ADMIN,
    "queues.create_queue": ADMIN,
    "queues.update_queue": ADMIN,
    "queues.delete_queue": ADMIN,
    "queues.upload_queue_media": ADMIN,
    "queues.delete_queue_media": ADMIN,
    "assignments.set_agent_capacity": ADMIN,
    "queue_options.create_option": ADMIN,
    "queue_options.update_option": ADMIN,
    "queue_options.delete_option": ADMIN,
    "queue_options.upload_option_media": ADMIN,
    "queue_options.delete_option_media": ADMIN,
    "queue_integrations.create_integration": ADMIN,
    "queue_integrations.update_integration": ADMIN,
    "queue_integrations.delete_integration": ADMIN,
    "queue_integrations.rotate_secret": ADMIN,
    "queue_integrations.test_session": ADMIN,
    "webhook_subscriptions.create_subscription": ADMIN,
    "webhook_subscriptions.update_subscription": ADMIN,
    "webhook_subscriptions.delete_subscription": ADMIN,
    "webhook_subscriptions.rotate_secret": ADMIN,
    "webhook_subscriptions.test_subscription": ADMIN,
    "webhook_subscriptions.redeliver": ADMIN,
    "prompts.create_prompt": ADMIN,
    "prompts.update_prompt": ADMIN,
    "prompts.delete_prompt": ADMIN,
    "whatsapps.create_connection": ADMIN,
    "whatsapps.update_connection": ADMIN,
    "whatsapps.delete_connection": ADMIN,
    "whatsapps.migrate": ADMIN,
    "whatsapp_sessions.start_session": ADMIN,
    "whatsapp_sessions.restart_session": ADMIN,
    "whatsapp_sessions.disconnect_session": ADMIN,
    "fake_gateway.inject_inbound": ADMIN,
    "fake_gateway.inject_status": ADMIN,
    "fake_gateway.add_contacts": ADMIN,
    "settings.update_setting": ADMIN,
    "companies.update_schedules": ADMIN,  # office hours, on the Settings screen
    "subscriptions.create_subscription": ADMIN,  # paying an invoice ("Financeiro")
    # -- admins: campaigns, their audiences and media sets
    "campaigns.create_campaign": ADMIN,
    "campaigns.update_campaign": ADMIN,
    "campaigns.delete_campaign": ADMIN,
    "campaigns.cancel_campaign": ADMIN,
    "campaigns.restart_campaign": ADMIN,
    "campaigns.upload_media": ADMIN,
    "campaigns.delete_media": ADMIN,
    "campaign_settings.save_settings": ADMIN,
    "contact_lists.create_list": ADMIN,
    "contact_lists.update_list": ADMIN,
    "contact_lists.delete_list": ADMIN,
    "contact_lists.upload_items": ADMIN,
    "contact_lists.fill_from_tag": ADMIN,
    "contact_list_items.create_item": ADMIN,
    "contact_list_items.update_item": ADMIN,
    "contact_list_items.delete_item": ADMIN,
    "file_lists.create_file_list": ADMIN,
    "file_lists.update_file_list": ADMIN,
    "file_lists.delete_file_list": ADMIN,
    "file_lists.delete_all": ADMIN,
    "file_lists.upload_files": ADMIN,
    # -- super users: the platform
    "companies.create_company": SUPER,
    "companies.update_company": SUPER,
    "companies.delete_company": SUPER,
    "plans.create_plan": SUPER,
    "plans.update_plan": SUPER,
    "plans.delete_plan": SUPER,
    "invoices.update_invoice": SUPER,
    "invoices.delete_invoice": SUPER,
    "subscriptions.create_webhook": SUPER,
    "helps.create_help": SUPER,
    "helps.update_help": SUPER,
    "helps.delete_help": SUPER,
    "announcements.create_announcement": SUPER,
    "announcements.update_announcement": SUPER,
    "announcements.delete_announcement": SUPER,
    "announcements.upload_media": SUPER,
    "announcements.delete_media": SUPER,
    # -- admins: the public API's tokens; the public API itself (token scopes)
    "api_tokens.create_token": ADMIN,
    "api_tokens.revoke_token": ADMIN,
    "v1_tickets.close_ticket": TOKEN,
    "v1_tickets.transfer_ticket": TOKEN,
    "v1_messages.send_in_ticket": TOKEN,
    "v1_messages.send_template": TOKEN,
    "v1_messages.send_to_number": TOKEN,
    "v1_contacts.create_contact": TOKEN,
    "v1_contacts.update_contact": TOKEN,
    "v1_campaigns.create_campaign": TOKEN,
    "v1_campaigns.pause_campaign": TOKEN,
    "v1_campaigns.resume_campaign": TOKEN,
    "v1_campaigns.cancel_campaign": TOKEN,
    "v1_webhooks.create_subscription": TOKEN,
    "v1_webhooks.update_subscription": TOKEN,
    "v1_webhooks.delete_subscription": TOKEN,
    "v1_webhooks.rotate_secret": TOKEN,
    "v1_webhooks.test_subscription": TOKEN,
    "v1_webhooks.redeliver": TOKEN,
}

#: How many roles each role includes (a super user is an admin, an admin a user).
_RANK = {PUBLIC: 0, USER: 1, ADMIN: 2, SUPER: 3}


def install(app: Flask, blueprint_names: set[str]) -> None:
    """Check `ROLES` before every write request to a route of `blueprint_names` (call it
    after registering them)."""
    for name in blueprint_names:
        # After the blueprint's own hooks: a switched-off plan feature or a disabled fake
        # gateway answers as before (403 ERR_PLAN_FEATURE_DISABLED, 404), whoever asks.
        app.before_request_funcs.setdefault(name, []).append(_enforce)


def _enforce() -> None:
    """The before-request hook: reads pass (each view's decorator guards them)."""
    if request.method in WRITE_METHODS:
        check(request.endpoint)


def check(endpoint: str | None) -> None:
    """Refuse the current request unless its caller has the role `ROLES` gives `endpoint`:
    401/403 from the token checks, 403 ERR_NO_PERMISSION for a role too low (or an endpoint
    the table does not name: a forgotten route is closed, not open)."""
    role = ROLES.get(endpoint or "")
    if role == PUBLIC:
        return
    view = current_app.view_functions.get(endpoint or "")
    if role == TOKEN:
        # Its `token_scope` authenticates and checks the scope; a view without one is closed.
        if getattr(view, "required_scope", None) is None:
            raise AppError("ERR_NO_PERMISSION", 403)
        return
    if role == USER and getattr(view, "required_role", None) == USER:
        return  # its `auth_required` verifies the token: once per request is enough
    # Verified here, the table alone protects a route, whatever decorator its view carries.
    verify_jwt_in_request()
    if role is None or _rank(current_user) < _RANK[role]:
        raise AppError("ERR_NO_PERMISSION", 403)


def _rank(user: object) -> int:
    """The highest role `user` holds."""
    if getattr(user, "super", False):
        return _RANK[SUPER]
    return _RANK[ADMIN] if getattr(user, "is_admin", False) else _RANK[USER]
