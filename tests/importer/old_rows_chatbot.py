"""Hand-made old rows of the chatbot tables (queue options, integrations, prompts) and
file lists, with their quirks; they point at the companies, queues and connections of
`old_rows` (company 3 "Acme", queue 5 "Sales", connection 2) by their old ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: The old (plain-text) OpenAI key of prompt 1.
API_KEY = "sk-old-123"


def _at(day: int, row: dict[str, Any]) -> dict[str, Any]:
    """The row created and updated on a day of January 2024 (naive UTC)."""
    stamp = datetime(2024, 1, day, 12)
    return {**row, "createdAt": stamp, "updatedAt": stamp}


def _option(oid: int, queue: int, parent: int | None, key: str, title: str, **kw: Any) -> dict:
    """A chatbot option of a queue under `parent` (None: the top level)."""
    return _at(1, {"id": oid, "queueId": queue, "parentId": parent, "option": key, **kw}) | {
        "title": title
    }


def rows_chatbot() -> dict[str, list[dict[str, Any]]]:
    """Old rows per table; "Queues" and "Whatsapps" rows add to those of `old_rows`."""
    return {
        # A queue handed to a Typebot and a prompt; a connection handed to a prompt and to
        # an integration that is not there.
        "Queues": [
            _at(
                1,
                {
                    "id": 6,
                    "name": "Support",
                    "color": "#0000FF",
                    "companyId": 3,
                    "orderQueue": 2,
                    "integrationId": 1,
                    "promptId": 1,
                },
            )
        ],
        "Whatsapps": [
            _at(
                1,
                {
                    "id": 3,
                    "name": "Bot line",
                    "retries": 0,
                    "companyId": 3,
                    "promptId": 1,
                    "integrationId": 99,
                },
            )
        ],
        "QueueIntegrations": [
            _at(
                1,
                {
                    "id": 1,
                    "type": "typebot",
                    "name": "Typebot Sales",
                    "projectName": "sales",
                    "jsonContent": "{}",
                    "language": "pt-BR",
                    "urlN8N": "https://typebot.example.com",
                    "companyId": 3,
                    "typebotSlug": "sales-flow",
                    "typebotExpires": 30,
                    "typebotKeywordFinish": "#sair",
                    "typebotUnknownMessage": "Não entendi",
                    "typebotDelayMessage": 500,
                    "typebotKeywordRestart": "#reset",
                    "typebotRestartMessage": "De novo",
                },
            ),
            _at(
                1,
                {
                    "id": 2,
                    "type": "webhook",
                    "name": "Hook",
                    "urlN8N": "https://hooks.example.com/x",
                    "companyId": 3,
                },
            ),
            # A fork's type this backend does not run: skipped.
            _at(1, {"id": 3, "type": "flowbuilder", "name": "Flow", "companyId": 3}),
            _at(1, {"id": 4, "type": "n8n", "name": "Lost", "companyId": 42}),  # orphan
            # The same name in another case, same company: merged into 1.
            _at(1, {"id": 5, "type": "typebot", "name": "typebot sales", "companyId": 3}),
        ],
        "Prompts": [
            _at(
                1,
                {
                    "id": 1,
                    "name": "Assistant",
                    "apiKey": API_KEY,
                    "prompt": "You help customers.",
                    "maxTokens": 200,
                    "maxMessages": 5,
                    "temperature": 1,
                    "promptTokens": 1000,
                    "completionTokens": 234,
                    "totalTokens": 1234,
                    "voice": "texto",
                    "queueId": 5,
                    "companyId": 3,
                },
            ),
            # Its hand-off queue is gone: kept without one.
            _at(
                1,
                {"id": 2, "name": "Night", "apiKey": "sk-2", "prompt": "p", "queueId": 77}
                | {"companyId": 3},
            ),
            _at(
                1,
                {"id": 3, "name": "Ghost", "apiKey": "k", "prompt": "p", "queueId": 5}
                | {"companyId": 42},
            ),  # orphan
        ],
        # Queue 5's tree: 10 > 13 > 11 (11 comes before its parent 13), 10 > 12; 14 is a
        # second "1" under 10 (merged into 12); 15's parent and 16's queue are missing.
        "QueueOptions": [
            _option(10, 5, None, "1", "Billing", message="Choose", mediaPath=""),
            _option(11, 5, 13, "1", "Pix", message="Our Pix key"),
            _option(12, 5, 10, "1", "Second copy"),
            _option(13, 5, 10, "2", "Payments"),
            _option(14, 5, 10, "1", "Copy again"),
            _option(15, 5, 999, "1", "Lost child"),
            _option(16, 77, None, "1", "Lost queue"),
            _option(17, 6, None, "1", "Tech"),
        ],
        "Files": [
            _at(1, {"id": 1, "companyId": 3, "name": "Promo kit", "message": "See attached"}),
            _at(1, {"id": 2, "companyId": 42, "name": "Lost", "message": ""}),  # orphan
        ],
        "FilesOptions": [
            # Created in the form, its file never uploaded.
            _at(1, {"id": 1, "fileId": 1, "name": "Price list", "path": "", "mediaType": ""}),
            _at(1, {"id": 2, "fileId": 9, "name": "x", "path": "x.pdf"}),  # orphan
        ],
    }
