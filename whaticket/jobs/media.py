"""Media jobs: fetch an inbound message's media from the provider, retrying with backoff."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.services.inbound import media_download


def download(message_id: int, attempt: int = 1) -> None:
    """Fetch, store and attach one message's media (or keep its media error), then commit."""
    media_download.fetch(message_id, attempt)
    dbmod.commit()
