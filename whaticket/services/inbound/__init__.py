"""Inbound pipeline: a provider webhook from durable record to stored message and acks.

Entry points: `deliveries.record` (store a delivery before answering), `deliveries.dispatch`
(turn one into normalised events, run by `jobs/inbound.drain`; `deliveries.list_events`
shows the failed ones to admins), `drains` (one drain per connection: lease and row
claims), `messages.handle_inbound` (contact, ticket, message once, then the bus),
`acks.apply_ack` (receipts; those that come before their message are kept), `provider_events`
(reactions, edits, deletions, calls), `media_download.schedule` (fetch inbound media after
the commit), `backfill` (an outage's missed messages, asked of the provider and recorded
as deliveries).
"""
