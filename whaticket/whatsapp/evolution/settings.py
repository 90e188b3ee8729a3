"""What the Evolution provider needs of one connection, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

#: (connect, read) seconds for every call to the bridge.
TIMEOUT = (5, 30)
#: Largest media file, when the deployment sets no MEDIA_MAX_BYTES.
MEDIA_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class EvolutionSettings:
    """One Evolution connection: the bridge, its key and instance, and our webhook address.

    `base_url` and `api_key` already fall back to the deployment's bridge
    (`EVOLUTION_BASE_URL`/`EVOLUTION_API_KEY`); `instance` to the row's account id.
    Empty values fail the call that needs them with `ERR_EVOLUTION_CONFIG`.
    """

    base_url: str
    api_key: str = ""
    instance: str = ""
    #: Where the bridge posts this connection's events (it carries the webhook secret);
    #: "" when the connection has no secret yet.
    webhook_url: str = ""
    timeout: tuple[float, float] = TIMEOUT
    #: Answers carry base64 media: up to twice this many bytes are read.
    media_max_bytes: int = MEDIA_MAX_BYTES
