"""Blueprints, one per controller group, mounted under API_PREFIX."""

from __future__ import annotations

from apispec import APISpec
from flask import Flask

from whaticket.api import (
    announcements,
    auth,
    campaign_settings,
    campaigns,
    chats,
    companies,
    contact_list_items,
    contact_lists,
    contacts,
    dashboard,
    external_api,
    fake_gateway,
    file_lists,
    helps,
    invoices,
    messages,
    password_reset,
    plans,
    prompts,
    public,
    queue_integrations,
    queue_options,
    queues,
    quick_messages,
    reports,
    schedules,
    settings,
    subscriptions,
    tags,
    ticket_notes,
    ticket_tags,
    tickets,
    users,
    version,
    webhooks_cloud,
    webhooks_evolution,
    whatsapp_sessions,
    whatsapps,
)
from whaticket.api.errors import api

BLUEPRINTS = [
    auth.blp,
    password_reset.blp,
    users.blp,
    companies.blp,
    companies.plan_blp,
    plans.blp,
    settings.blp,
    contacts.blp,
    contacts.find_blp,
    tags.blp,
    ticket_tags.blp,
    ticket_notes.blp,
    quick_messages.blp,
    schedules.blp,
    queues.blp,
    queue_options.blp,
    queue_integrations.blp,
    whatsapps.blp,
    fake_gateway.blp,
    tickets.blp,
    tickets.kanban_blp,
    messages.blp,
    messages.count_blp,
    public.blp,
    whatsapp_sessions.blp,
    webhooks_cloud.blp,
    webhooks_evolution.blp,
    contact_lists.blp,
    contact_list_items.blp,
    file_lists.blp,
    campaigns.blp,
    campaign_settings.blp,
    invoices.blp,
    subscriptions.blp,
    dashboard.blp,
    reports.blp,
    chats.blp,
    announcements.blp,
    helps.blp,
    prompts.blp,
    version.blp,
]

#: Blueprints whose paths are fixed whatever API_PREFIX is (the external API).
FIXED_BLUEPRINTS = [external_api.blp]


#: OPENAPI_REUSE_SPEC: the spec built by this process's first app, per API_PREFIX.
_SPECS: dict[str, APISpec] = {}


def register_blueprints(app: Flask) -> None:
    """Register every blueprint under API_PREFIX (empty: served at the root)."""
    prefix = app.config["API_PREFIX"]
    reused = _SPECS.get(prefix) if app.config.get("OPENAPI_REUSE_SPEC") else None
    mounts = [(blp, prefix + (blp.url_prefix or "")) for blp in BLUEPRINTS]
    mounts += [(blp, None) for blp in FIXED_BLUEPRINTS]
    for blp, url_prefix in mounts:
        options = {} if url_prefix is None else {"url_prefix": url_prefix}
        if reused is None:
            api.register_blueprint(blp, **options)
        else:
            # What flask-smorest's register_blueprint does, minus documenting the views:
            # that part is most of create_app's time, and its result is the same every time.
            app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = api
            app.register_blueprint(blp, **options)
    if reused is not None:
        api.spec = reused
    elif app.config.get("OPENAPI_REUSE_SPEC"):
        _SPECS[prefix] = api.spec
