"""Integrations platform: company webhooks with signed deliveries, a delivery log and replay.

Entry points: `subscriptions` (admins' CRUD, the secret shown once and rotated),
`webhooks_listener` (the bus topics of the core -> event types, recorded by `outbox` in the
publisher's transaction and queued after its commit), `sending.claim`/`sending.apply` (a
delivery and the due ones of its subscription, run by `jobs/webhooks.deliver` around
`transport.send`; retries, ordering per ticket), `health` (a day of failures switches a
subscription off and tells its admins), `overdue.due_ids` (the sweep),
`deliveries` (the log, redelivery, test ping, retention purge), `signing` (the headers).
"""
