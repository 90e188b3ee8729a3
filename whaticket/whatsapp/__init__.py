"""WhatsApp providers as pure adapters: plain settings in, typed results and events out.

* `base` - the `Gateway` interface, its results (`SendResult`, `SessionState`, `Media`,
  `PhoneContact`), normalised events (`InboundMessage`, `AckUpdate`, ...) and errors;
* `registry` - the registered providers by name;
* `cloud/`, `evolution/` - a `client` (HTTP calls, error mapping), a `parser` (webhook
  payload → events) and a `settings` dataclass each; `fake/` - the in-process provider
  and its store;
* `formats` - message bodies in the shapes the chat view parses.

Nothing here imports models, services, jobs or the database: `services/connections/gateway.py`
builds each provider's settings from a connection row.
"""
