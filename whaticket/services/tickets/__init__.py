"""Tickets: the lifecycle and its episodes, lookups, lists, live events, notes, tags, ratings.

Entry points, lowest first: `events.emit_*` (socket frames); `episodes.open_tracking` /
`finish_episode`; `lookup.get_ticket`, `can_see`, `find_or_create_for_inbound`,
`find_or_create_quiet`; `notices` (accept greeting, transfer notice); `ratings.ask_rating`;
`lifecycle.accept`, `transfer`, `close`, `reopen`, `return_to_pending`, `update_ticket` (the
SaaS PUT), `create_ticket`, `mark_read`; `listing.list_tickets` (JSON rows built by `rows`,
no ORM objects: the hot list); `tags`, `ticket_notes`;
`automation` (auto-close, auto-transfer); `assignment.offer_waiting` (automatic assignment,
its triggers in `assignment_triggers`, re-queue in `assignment_requeue`, history in
`assignment_history`).
What the lifecycle does is published on `whaticket.bus`; this package imports no listener.
"""
