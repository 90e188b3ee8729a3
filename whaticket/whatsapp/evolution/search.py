"""Evolution's message search, for an outage backfill: which chats had traffic in a window
(`POST /chat/findChats`) and their messages in it (`POST /chat/findMessages`).

Mixed into `EvolutionGateway`, whose `_call` (the guarded request with the `apikey`
header and typed errors) and `instance` it uses. Evolution filters `messageTimestamp`
only when both `gte` and `lte` are given, as dates; it answers newest first, `offset`
records per `page`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from whaticket.whatsapp.base import FoundMessage
from whaticket.whatsapp.evolution import parser
from whaticket.whatsapp.evolution.settings import EvolutionSettings

#: Records per page asked of findMessages, and the most pages read for one chat.
SEARCH_PAGE_SIZE = 100
SEARCH_MAX_PAGES = 50


class MessageSearch:
    """findChats / findMessages over the bridge (see the module doc)."""

    def _call(
        self,
        settings: EvolutionSettings,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> Any:
        raise NotImplementedError  # EvolutionGateway's

    @staticmethod
    def instance(settings: EvolutionSettings) -> str:
        """The instance name (EvolutionGateway's)."""
        raise NotImplementedError

    @staticmethod
    def _window(since: datetime, until: datetime) -> dict[str, str]:
        """A `messageTimestamp` filter: Evolution applies it only with both ends, as dates."""
        return {
            "gte": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "lte": until.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }

    def find_chats(
        self, settings: EvolutionSettings, since: datetime, until: datetime
    ) -> list[str]:
        """The remoteJids of the chats with messages between `since` and `until`
        (`POST /chat/findChats`, whose answer is a list of chats)."""
        body = {"where": {"messageTimestamp": self._window(since, until)}}
        data = self._call(settings, "POST", f"/chat/findChats/{self.instance(settings)}", body)
        jids: list[str] = []
        for chat in data if isinstance(data, list) else []:
            jid = chat.get("remoteJid") if isinstance(chat, dict) else None
            if isinstance(jid, str) and jid and jid not in jids:
                jids.append(jid[:200])
        return jids

    def find_messages(
        self, settings: EvolutionSettings, remote_jid: str, since: datetime, until: datetime
    ) -> list[FoundMessage]:
        """A chat's messages between `since` and `until`, oldest first.

        `POST /chat/findMessages` answers `{messages: {total, pages, currentPage, records}}`,
        newest first, `offset` records per page: every page is read (SEARCH_MAX_PAGES at
        most). Each record is what the bridge stored of a `messages.upsert`, so it is handed
        back as that webhook's delivery.
        """
        instance = self.instance(settings)
        found: dict[str, FoundMessage] = {}
        for page in range(1, SEARCH_MAX_PAGES + 1):
            body = {
                "where": {
                    "key": {"remoteJid": remote_jid},
                    "messageTimestamp": self._window(since, until),
                },
                "page": page,
                "offset": SEARCH_PAGE_SIZE,
            }
            data = self._call(settings, "POST", f"/chat/findMessages/{instance}", body)
            box = data.get("messages") if isinstance(data, dict) else None
            records = box.get("records") if isinstance(box, dict) else None
            if not isinstance(records, list) or not records:
                break
            for record in records:
                item = self._found(instance, record)
                if item is not None:
                    found.setdefault(item.provider_id, item)
            pages = box.get("pages") if isinstance(box.get("pages"), int) else 0
            if page >= pages:
                break
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(found.values(), key=lambda m: (m.timestamp or epoch, m.provider_id))

    @staticmethod
    def _found(instance: str, record: Any) -> FoundMessage | None:
        """One findMessages record as a FoundMessage (None without a key id)."""
        if not isinstance(record, dict):
            return None
        key = record.get("key") if isinstance(record.get("key"), dict) else {}
        provider_id = key.get("id")
        if not isinstance(provider_id, str) or not provider_id:
            return None
        data = {k: v for k, v in record.items() if k not in ("id", "MessageUpdate")}
        return FoundMessage(
            provider_id=provider_id[:191],
            chat_id=str(key.get("remoteJid") or "")[:200],
            timestamp=parser.timestamp_of(record.get("messageTimestamp")),
            delivery={"event": "messages.upsert", "instance": instance, "data": data},
        )
