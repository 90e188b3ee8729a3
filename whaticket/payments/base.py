"""The payment provider interface: immediate Pix charges, their status, webhook registration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from whaticket.errors import AppError

if TYPE_CHECKING:
    from whaticket.models import Company, Invoice

#: Pix charge statuses (Bacen API Pix): only CONCLUIDA means the money arrived.
STATUS_ACTIVE = "ATIVA"
STATUS_PAID = "CONCLUIDA"
STATUS_REMOVED_BY_USER = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
STATUS_REMOVED_BY_PSP = "REMOVIDA_PELO_PSP"


class PaymentError(AppError):
    """A payment provider refused or failed a call (rendered as 502 ERR_PAYMENT_...)."""

    def __init__(
        self, code: str, message: str = "", *, status: int = 502, retryable: bool = False
    ) -> None:
        super().__init__(code, status)
        self.message = message or code
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Charge:
    """A provider charge as the rest of the code sees it."""

    txid: str
    status: str
    #: The amount the provider holds for this charge (never the client's word).
    amount: Decimal | None = None
    #: Pix copy-and-paste code and QR code image (a data URI).
    qrcode: str | None = None
    qrcode_image: str | None = None
    expires_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        """True when the provider says the charge was paid."""
        return self.status == STATUS_PAID


class PaymentProvider:
    """One payment provider; subclasses implement the three calls."""

    name: str = ""

    def create_charge(
        self, invoice: Invoice, company: Company, amount: Decimal, expires_in: int
    ) -> Charge:
        """Create an immediate charge of `amount` for `invoice`, valid `expires_in` seconds."""
        raise NotImplementedError

    def fetch_charge(self, txid: str) -> Charge:
        """The provider's current view of a charge (PaymentError when unknown)."""
        raise NotImplementedError

    def register_webhook(self, url: str) -> None:
        """Tell the provider where to send payment notifications."""
        raise NotImplementedError


def payer_note(invoice_id: int) -> str:
    """The payer note put on every charge: the SaaS `#Fatura:<id>`."""
    return f"#Fatura:{invoice_id}"


def money(value: Any) -> str:
    """An amount as the Pix API wants it: a string with two decimals ("30.00")."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):.2f}"
