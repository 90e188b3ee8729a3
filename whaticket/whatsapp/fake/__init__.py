"""The `fake` provider: an in-process WhatsApp for development, demos and tests.

Entry points:
* `FakeGateway`, `FakeSettings` (provider.py) - the registered provider and what it
  takes: the connection's id and status, the store, the acks to promise, a media sink;
* `inbound_event`, `ack_event`, `STATUSES` (provider.py) - the events its HTTP face
  (`/fake-gateway`) and its webhook format build;
* `FakeStore`, `read_outbox`, `clear_outbox`, `add_contacts`, `read_contacts`,
  `clear_contacts` (store.py) - the outbox and address book, in Redis or in memory.

What it does:

* Every send is recorded in the connection's **outbox** and answered with
  `SendResult(provider_id="FAKE-<uuid hex>", ack=ACK_SENT)`. Outbox entries are
  `{id, to, type, body, mediaUrl?, createdAt}` with type text, image, audio, video,
  document, interactive or reaction; `mark_read` and `delete_message` record "read" and
  "delete" entries too (store.py says where they live).
* **Failures on demand**: a connection whose status is not "CONNECTED" raises
  `SessionNotConnectedError` (retryable); sending to a number that starts with "000"
  raises the non-retryable `GatewayError("ERR_FAKE_REJECTED")`.
* **Automatic acks**: `scheduled_acks` answers, for each send, the acks named in the
  settings (FAKE_GATEWAY_AUTO_ACKS, default "delivered,read") one every `ack_delay`
  seconds; the services binding schedules a job applying each (`jobs/acks.py`).
* `check_number`: 10 to 15 digits not starting with "000" are "on WhatsApp".
* **Address book** (`list_contacts`, "import contacts"): the entries added with
  `add_contacts` (or `POST /fake-gateway/<id>/contacts`), then everyone the connection
  sent to (its outbox), each number once; groups come flagged.
* Sessions: `start_session` answers CONNECTED (there is no QR code), `stop_session`
  DISCONNECTED. Inbound media is always inline, so `fetch_media` always fails.
* `parse_webhook` takes the fake's own JSON: `{from, name, body, id?, fromMe?, isGroup?,
  groupName?, participant?}` is an inbound message, `{id, status}` (sent, delivered,
  read, failed) an ack update. The `/fake-gateway` HTTP face builds the same events.
"""

from __future__ import annotations

from whaticket.whatsapp.fake.provider import (
    REJECTED_PREFIX,
    STATUS_ACKS,
    STATUSES,
    FakeGateway,
    FakeSettings,
    SavedMedia,
    ack_event,
    auto_ack_steps,
    inbound_event,
    new_inbound_id,
)
from whaticket.whatsapp.fake.store import (
    FakeStore,
    add_contacts,
    clear_contacts,
    clear_outbox,
    digits,
    lookup_ref,
    outbox_key,
    read_contacts,
    read_outbox,
    record,
)
from whaticket.whatsapp.registry import register

register(FakeGateway)

__all__ = [
    "REJECTED_PREFIX",
    "STATUSES",
    "STATUS_ACKS",
    "FakeGateway",
    "FakeSettings",
    "FakeStore",
    "SavedMedia",
    "ack_event",
    "add_contacts",
    "auto_ack_steps",
    "clear_contacts",
    "clear_outbox",
    "digits",
    "inbound_event",
    "lookup_ref",
    "new_inbound_id",
    "outbox_key",
    "read_contacts",
    "read_outbox",
    "record",
]
