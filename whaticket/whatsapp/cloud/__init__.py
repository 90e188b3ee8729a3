"""The `cloud` provider: Meta's WhatsApp Cloud API (Graph API), see gateways.md §1.

Entry points:
* `CloudGateway` (client.py) - the registered provider: sends, media, sessions, errors;
* `CloudSettings` (settings.py) - what it takes: `{phoneNumberId, accessToken, appSecret,
  verifyToken, baseUrl}` of the connection, decrypted, `baseUrl` defaulted to
  `CLOUD_API_BASE_URL` and `phoneNumberId` to the row's `provider_account_id`
  (built by `services/connections/gateway.py`);
* `parse_webhook`, `verify_signature`, `phone_number_ids` (parser.py) - a
  `whatsapp_business_account` delivery as normalised events, pure functions.
"""

from __future__ import annotations

from whaticket.whatsapp.cloud.client import CloudGateway, error_from_response
from whaticket.whatsapp.cloud.parser import parse_webhook, phone_number_ids, verify_signature
from whaticket.whatsapp.cloud.settings import DEFAULT_BASE_URL, CloudSettings
from whaticket.whatsapp.registry import register

register(CloudGateway)

__all__ = [
    "DEFAULT_BASE_URL",
    "CloudGateway",
    "CloudSettings",
    "error_from_response",
    "parse_webhook",
    "phone_number_ids",
    "verify_signature",
]
