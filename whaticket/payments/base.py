"""The payment provider interface: immediate Pix charges, their status, webhook registration.

Providers are pure adapters: built with the deployment's `PaymentSettings` (filled from the
config by `services/billing/payments.py`), they take plain `ChargeRequest`s and answer `Charge`s;
applying a paid charge to an invoice is `services/billing/subscriptions.py`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from whaticket.errors import AppError

#: Pix charge statuses (Bacen API Pix): only CONCLUIDA means the money arrived.
STATUS_ACTIVE = "ATIVA"
STATUS_PAID = "CONCLUIDA"
STATUS_REMOVED_BY_USER = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
STATUS_REMOVED_BY_PSP = "REMOVIDA_PELO_PSP"
#: (connect, read) seconds: a charge is created inside a web request.
TIMEOUT = (5, 20)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PaymentSettings:
    """The deployment's payment account, as plain values (each provider reads its own)."""

    #: The provider's API base URL, without a trailing slash ("" means its default).
    base_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    #: One PEM with the client certificate and key, for providers calling with mTLS.
    cert_path: str | None = None
    #: The receiving Pix key.
    pix_key: str = ""
    timeout: tuple[float, float] = TIMEOUT
    #: The fake's store: a Redis client (None: process memory) and a key namespace.
    redis: Any = field(default=None, compare=False)
    namespace: str = ""
    #: The time charges are stamped with.
    clock: Callable[[], datetime] = field(default=_utcnow, compare=False)


@dataclass(frozen=True)
class ChargeRequest:
    """What to charge: an invoice's amount, payable for `expires_in` seconds."""

    invoice_id: int
    amount: Decimal
    expires_in: int


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
    """One payment provider, built with its settings; subclasses implement the three calls."""

    name: str = ""

    def __init__(self, settings: PaymentSettings | None = None) -> None:
        self.settings = settings or PaymentSettings()

    def create_charge(self, request: ChargeRequest) -> Charge:
        """Create an immediate charge of the request's amount, valid `expires_in` seconds."""
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
