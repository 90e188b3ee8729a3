"""Blueprints, one per controller group, mounted under API_PREFIX."""

from __future__ import annotations

from apispec import APISpec
from flask import Flask

from whaticket.api import (
    admin_status,
    announcements,
    api_tokens,
    assignments,
    auth,
    campaign_settings,
    campaigns,
    chats,
    companies,
    contact_list_items,
    contact_lists,
    contact_merges,
    contacts,
    dashboard,
    external_api,
    fake_gateway,
    file_lists,
    health,
    helps,
    imports,
    inbound_events,
    invoices,
    messages,
    metrics,
    password_reset,
    plans,
    prompts,
    public,
    queue_integrations,
    queue_options,
    queues,
    quick_messages,
    reports,
    roles,
    schedules,
    settings,
    sla_policies,
    subscriptions,
    tags,
    ticket_notes,
    ticket_tags,
    tickets,
    users,
    version,
    webhook_subscriptions,
    webhooks_cloud,
    webhooks_evolution,
    whatsapp_sessions,
    whatsapps,
)
from whaticket.api.base import IdConverter
from whaticket.api.errors import api
from whaticket.api.v1 import auth as v1_auth
from whaticket.api.v1 import campaigns as v1_campaigns
from whaticket.api.v1 import contacts as v1_contacts
from whaticket.api.v1 import messages as v1_messages
from whaticket.api.v1 import reports as v1_reports
from whaticket.api.v1 import tickets as v1_tickets
from whaticket.api.v1 import webhooks as v1_webhooks

BLUEPRINTS = [
    auth.blp,
    password_reset.blp,
    users.blp,
    companies.blp,
    companies.plan_blp,
    plans.blp,
    settings.blp,
    contact_merges.blp,
    contacts.blp,
    contacts.find_blp,
    tags.blp,
    sla_policies.blp,
    ticket_tags.blp,
    ticket_notes.blp,
    quick_messages.blp,
    schedules.blp,
    queues.blp,
    queue_options.blp,
    queue_integrations.blp,
    assignments.blp,
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
    inbound_events.blp,
    webhook_subscriptions.blp,
    contact_lists.blp,
    contact_list_items.blp,
    imports.blp,
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
    # Operations: health probes, Prometheus metrics, the super users' status page.
    health.blp,
    metrics.blp,
    admin_status.blp,
    api_tokens.blp,
    # The public API ({API_PREFIX}/v1), authenticated by scoped API tokens.
    v1_tickets.blp,
    v1_messages.blp,
    v1_contacts.blp,
    v1_reports.blp,
    v1_campaigns.blp,
    v1_webhooks.blp,
]

#: Blueprints whose paths are fixed whatever API_PREFIX is (the external API).
FIXED_BLUEPRINTS = [external_api.blp]


#: OPENAPI_REUSE_SPEC: the spec built by this process's first app, per API_PREFIX.
_SPECS: dict[str, APISpec] = {}


def register_blueprints(app: Flask) -> None:
    """Register every blueprint under API_PREFIX (empty: served at the root)."""
    prefix = app.config["API_PREFIX"]
    # Every `<int:...>` is an id an INT column holds: a longer number is a 404, not a 500.
    app.url_map.converters["int"] = IdConverter
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
    else:
        # The public API's token scheme, next to the access JWT's (bearerAuth).
        api.spec.components.security_scheme(v1_auth.SCHEME_NAME, v1_auth.SECURITY_SCHEME)
        if app.config.get("OPENAPI_REUSE_SPEC"):
            _SPECS[prefix] = api.spec
    # Who may call each write route: the one table in api/roles.py.
    roles.install(app, {blp.name for blp, _prefix in mounts})
