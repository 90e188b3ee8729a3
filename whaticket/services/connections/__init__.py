"""WhatsApp connections: their rows, sessions, the provider binding, the external API.

Entry points: `gateway.gateway_for` (the pure provider bound to a connection row),
`provider_settings` (which providers may run, aliases, the validated providerConfig),
`whatsapps` (CRUD, queues, defaults), `sessions.start`, `restart`, `disconnect` and
`apply_state`, `timeline` (up/down intervals, the gap's backfill decided), `migration`
(a banned number's conversations moved to another connection), `external_api`,
`fake_whatsapp` (the fake provider's outbox). See docs/connections.md.
"""
