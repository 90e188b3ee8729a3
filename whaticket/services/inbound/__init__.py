"""Inbound pipeline: a provider webhook from durable record to stored message and acks.

Entry points: `deliveries.record` (store a delivery before answering), `deliveries.dispatch`
(turn one into normalised events, run by `jobs/inbound.drain`), `messages.handle_inbound`
(contact, ticket, message once, then the bus), `acks.apply_ack`, `provider_events`
(reactions, edits, deletions, calls), `media_download.schedule` (fetch inbound media after
the commit).
"""
