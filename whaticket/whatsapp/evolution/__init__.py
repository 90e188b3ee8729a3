"""The `evolution` provider: WhatsApp through an Evolution API (Baileys) bridge over HTTP.

Entry points:
* `EvolutionGateway` (client.py) - the registered provider: instances and QR codes,
  sends, reactions, read receipts, deletes, media, number checks, the phone's contacts;
* `EvolutionSettings` (settings.py) - what it takes: the connection's `{baseUrl, apiKey,
  instance, webhookSecret}` decrypted, the bridge defaulted to `EVOLUTION_BASE_URL` /
  `EVOLUTION_API_KEY`, the instance to the row's `provider_account_id`, and the webhook
  URL to register (built by `services/connections/gateway.py`);
* `parse_webhook` (parser.py) - one delivery `{event, instance, data}` as normalised
  events, a pure function of the payload.
"""

from __future__ import annotations

from whaticket.whatsapp.evolution.client import (
    WEBHOOK_EVENTS,
    EvolutionGateway,
    error_from_answer,
)
from whaticket.whatsapp.evolution.parser import parse_webhook
from whaticket.whatsapp.evolution.settings import EvolutionSettings
from whaticket.whatsapp.registry import register

register(EvolutionGateway)

__all__ = [
    "WEBHOOK_EVENTS",
    "EvolutionGateway",
    "EvolutionSettings",
    "error_from_answer",
    "parse_webhook",
]
