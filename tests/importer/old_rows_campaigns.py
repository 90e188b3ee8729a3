"""Hand-made rows of the old contact lists, campaigns, shipping and schedules (company 3,
its contacts 100-102, tickets 200-202, users 10-12 and connection 2 of old_rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

#: The campaign attachment in the old public folder (`old_rows.write_media`; a JPEG's first bytes).
PROMO = b"\xff\xd8\xff\xe0" + b"\x00" * 60


def _t(day: int, hour: int = 12) -> datetime:
    """A time in January 2024 (naive UTC, as Sequelize stores it)."""
    return datetime(2024, 1, day, hour)


def _row(values: dict[str, Any], created: datetime, updated: datetime | None = None) -> dict:
    return {**values, "createdAt": created, "updatedAt": updated or created}


def _campaign(row_id: int, name: str, status: str, **values: Any) -> dict[str, Any]:
    """A campaign of company 3 on connection 2 with list 1 (unless told otherwise)."""
    base = {"id": row_id, "name": name, "status": status, "companyId": 3}
    base |= {"contactListId": 1, "whatsappId": 2, "confirmation": False}
    base |= {f"message{i}": "" for i in range(1, 6)}
    base |= {f"confirmationMessage{i}": "" for i in range(1, 6)}
    return _row(base | values, _t(10))


def _item(row_id: int, list_id: int, name: str, number: str, valid: bool | None) -> dict:
    values = {"id": row_id, "contactListId": list_id, "name": name, "number": number}
    return _row(values | {"email": "", "isWhatsappValid": valid, "companyId": 3}, _t(9))


def rows_campaigns() -> dict[str, list[dict[str, Any]]]:
    """The rows per old table; schedule times are relative to now (one is still due)."""
    soon = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=1)
    return {
        "ContactLists": [
            _row({"id": 1, "name": "Clientes", "companyId": 3}, _t(9)),
            # Same name in the same company: merged into list 1 (its items join it).
            _row({"id": 2, "name": "Clientes", "companyId": 3}, _t(9)),
            _row({"id": 3, "name": "Lost", "companyId": 42}, _t(9)),  # orphan
        ],
        "ContactListItems": [
            _item(1, 1, "João", "5511987654321", True),
            _item(2, 1, "Maria", "5521998765432", True),
            # João without the ninth digit, in the list merged into 1: merged into item 1.
            _item(3, 2, "Joao", "551187654321", True),
            _item(4, 1, "Pedro", "5531977776666", None),
            _item(5, 1, "Blank", "", None),  # no number
            _item(6, 99, "Nowhere", "5511911112222", True),  # orphan
            _item(7, 1, "Not on WhatsApp", "5511933334444", False),
        ],
        "CampaignSettings": [
            _row({"id": 1, "key": "messageInterval", "value": "30", "companyId": 3}, _t(9)),
            _row(
                {"id": 2, "key": "variables", "value": '[{"key":"loja","value":"Centro"}]'}
                | {"companyId": 3},
                _t(9),
            ),
            _row({"id": 3, "key": "messageInterval", "value": "5", "companyId": 42}, _t(9)),
        ],
        "Campaigns": [
            _campaign(
                1,
                "Natal",
                "FINALIZADA",
                message1="Feliz Natal {nome}",
                confirmation=True,
                confirmationMessage1="Posso enviar?",
                scheduledAt=_t(10),
                completedAt=_t(11),
            ),
            # Running when the old system was left: imported paused.
            _campaign(
                2, "Black Friday", "EM_ANDAMENTO", message1="Oferta {nome}", mediaPath="promo.jpg"
            ),
            # Scheduled for a time already past: imported inactive, never started by itself.
            _campaign(3, "Páscoa", "PROGRAMADA", message1="Páscoa!", scheduledAt=_t(20)),
            _campaign(4, "Lost", "INATIVA", companyId=42),  # orphan
            # Its list is gone: kept without it.
            _campaign(5, "Sem lista", "CANCELADA", message1="x", contactListId=99),
        ],
        "CampaignShipping": [
            _row(
                {"id": 1, "campaignId": 2, "contactId": 1, "number": "5511987654321"}
                | {"message": "Oferta João", "jobId": "17", "deliveredAt": _t(10, 13)},
                _t(10),
            ),
            # The same number again (the merged item): merged into shipping 1.
            _row(
                {"id": 2, "campaignId": 2, "contactId": 3, "number": "551187654321"}
                | {"message": "Oferta Joao"},
                _t(10),
            ),
            _row(
                {"id": 3, "campaignId": 2, "contactId": 2, "number": "5521998765432"}
                | {"message": "Oferta Maria"},
                _t(10),
            ),
            _row({"id": 4, "campaignId": 99, "number": "5511987654321", "message": "x"}, _t(10)),
            _row(
                {"id": 5, "campaignId": 1, "contactId": 1, "number": "5511987654321"}
                | {"message": "Feliz Natal João", "confirmationMessage": "Posso enviar?"}
                | {"confirmation": True, "confirmationRequestedAt": _t(10, 13)}
                | {"confirmedAt": _t(10, 14), "deliveredAt": _t(10, 15)},
                _t(10),
            ),
            # Asked to confirm, no answer yet: waits for the answer.
            _row(
                {"id": 6, "campaignId": 1, "contactId": 4, "number": "5531977776666"}
                | {"message": "Feliz Natal Pedro", "confirmationMessage": "Posso enviar?"}
                | {"confirmationRequestedAt": _t(10, 13)},
                _t(10),
            ),
        ],
        "Schedules": [
            _row(
                {"id": 1, "body": "Lembrete", "sendAt": soon, "contactId": 100}
                | {"ticketId": 200, "userId": 10, "companyId": 3, "status": "PENDENTE"},
                _t(12),
            ),
            _row(
                {"id": 2, "body": "Enviado", "sendAt": _t(8), "sentAt": _t(8, 12)}
                | {"contactId": 102, "ticketId": 203, "userId": 11}
                | {"companyId": 3, "status": "ENVIADA"},
                _t(7),
                _t(8, 12),
            ),
            # Never sent and its time is past: not sent late by surprise (ERRO).
            _row(
                {"id": 3, "body": "Atrasado", "sendAt": _t(9), "contactId": 102}
                | {"companyId": 3, "status": "PENDENTE"},
                _t(7),
            ),
            _row(
                {"id": 4, "body": "x", "sendAt": soon, "contactId": 999}
                | {"companyId": 3, "status": "PENDENTE"},
                _t(7),
            ),  # orphan
            # Merged contact and ticket, its user an orphan: kept without user.
            _row(
                {"id": 5, "body": "Amanhã", "sendAt": soon, "contactId": 101, "ticketId": 202}
                | {"userId": 12, "companyId": 3, "status": "AGENDADA"},
                _t(7),
            ),
        ],
    }
