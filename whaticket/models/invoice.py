"""Invoice and Payment: what a company owes per billing period, and the Pix charges for it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

INVOICE_STATUSES = ("open", "paid", "cancelled")


class Invoice(CompanyScopedMixin, TimestampMixin, db.Model):
    """One billing period of a company; (company, period) is unique, so never two."""

    __tablename__ = "invoices"
    __table_args__ = (sa.UniqueConstraint("company_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plan's name when the invoice was made.
    detail: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    due_date: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The billing period it covers, as the due date's ISO day ("2026-12-05").
    period: Mapped[str] = mapped_column(sa.String(10))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Payment(CompanyScopedMixin, TimestampMixin, db.Model):
    """A charge created with a payment provider for an invoice (a Pix `cob`)."""

    __tablename__ = "payments"
    __table_args__ = (sa.UniqueConstraint("provider", "txid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: The provider's charge id (Pix txid).
    txid: Mapped[str] = mapped_column(sa.String(64))
    #: The provider's status (ATIVA, CONCLUIDA, REMOVIDA_PELO_USUARIO_RECEBEDOR, ...).
    status: Mapped[str] = mapped_column(sa.String(40), default="ATIVA")
    value: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    #: Pix copy-and-paste code and the QR code image (data URI).
    qrcode: Mapped[str | None] = mapped_column(sa.Text)
    qrcode_image: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set once, when the confirmed payment extended the due date (idempotency).
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    raw: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
