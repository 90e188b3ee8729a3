"""What the Cloud provider needs of one connection, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

#: Meta's Graph API with the version this code speaks (CLOUD_API_BASE_URL overrides it).
DEFAULT_BASE_URL = "https://graph.facebook.com/v23.0"
#: (connect, read) seconds: a send must never hold a web request or a worker for long.
TIMEOUT = (5, 30)
#: Largest answer read (a media download), when the deployment sets no MEDIA_MAX_BYTES.
MEDIA_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class CloudSettings:
    """One Cloud API connection: decrypted credentials, the base URL already defaulted."""

    #: The number's id sends go out from (`phoneNumberId`, else the row's account id).
    phone_number_id: str
    access_token: str
    #: Graph API base with its version, without a trailing slash.
    base_url: str = DEFAULT_BASE_URL
    app_secret: str = ""
    verify_token: str = ""
    #: The number webhooks are routed by (the row's `provider_account_id`; may be "").
    account_id: str = ""
    timeout: tuple[float, float] = TIMEOUT
    media_max_bytes: int = MEDIA_MAX_BYTES

    @property
    def webhook_number_id(self) -> str:
        """The `metadata.phone_number_id` this connection's webhook changes carry."""
        return self.account_id or self.phone_number_id
