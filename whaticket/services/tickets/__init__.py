"""Tickets: the lifecycle and its episodes, lists, live events, notes, tags, ratings.

Entry points: `lifecycle.accept`, `transfer`, `close`, `reopen`, `return_to_pending`,
`update_ticket` (the SaaS PUT), `create_ticket`, `find_or_create_for_inbound`;
`episodes.open_tracking` / `finish_episode`; `listing.list_tickets`; `events.emit_*`
(socket frames); `ratings.ask_rating`; `automation` (auto-close, auto-transfer).
What the lifecycle does is published on `whaticket.bus`; this package imports no listener.
"""
