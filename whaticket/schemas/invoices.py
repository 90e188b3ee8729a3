"""Invoice and subscription schemas: rows, pages, the status update, charges, webhooks."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.models.invoice import INVOICE_STATUSES
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class InvoiceSchema(BaseSchema):
    """An invoice row (`value` a number, as the SaaS frontend formats it)."""

    id = fields.Integer()
    company_id = fields.Integer()
    detail = fields.String()
    status = fields.String()
    value = fields.Float()
    due_date = Timestamp()
    period = fields.String()
    paid_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class InvoicePageSchema(BaseSchema):
    """`GET /invoices`: {invoices, count, hasMore}."""

    invoices = fields.List(fields.Nested(InvoiceSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class InvoiceUpdateSchema(BaseSchema):
    """`PUT /invoices/<id>`: only the status; an `id` in the body is ignored."""

    status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))


class SubscriptionCreateSchema(BaseSchema):
    """`POST /subscription`: the invoice to pay. The SaaS also sends price, users and
    connections; they are dropped (the amount is the invoice's own value)."""

    invoice_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))


class QrcodeSchema(BaseSchema):
    """The Efí `loc/{id}/qrcode` body the SaaS checkout reads as `pix.qrcode.qrcode`."""

    qrcode = fields.String(allow_none=True, data_key="qrcode")
    imagem_qrcode = fields.String(allow_none=True, data_key="imagemQrcode")


class ChargeSchema(BaseSchema):
    """`POST /subscription`: the Pix charge to show the payer."""

    id = fields.Integer()
    txid = fields.String()
    status = fields.String()
    provider = fields.String()
    invoice_id = fields.Integer(data_key="invoiceId")
    pix_copia_e_cola = fields.String(allow_none=True, data_key="pixCopiaECola")
    qrcode_image = fields.String(allow_none=True, data_key="qrcodeImage")
    qrcode = fields.Dict()
    expires_at = Timestamp(allow_none=True, data_key="expiresAt")
    valor = fields.Dict()
    calendario = fields.Dict(allow_none=True)
    solicitacao_pagador = fields.String(allow_none=True, data_key="solicitacaoPagador")


class WebhookRegisterSchema(BaseSchema):
    """`POST /subscription/create/webhook`: an optional URL (default: ours, public)."""

    url = fields.Url(require_tld=False, validate=validate.Length(max=500))


class FakeWebhookSchema(BaseSchema):
    """`POST /subscription/webhook/fake`: the fake charge the "payer" paid."""

    txid = fields.String(required=True, validate=validate.Length(min=1, max=64))


class PaymentCompanySchema(BaseSchema):
    """The company in the `company-{cid}-payment` event."""

    id = fields.Integer()
    name = fields.String()
    due_date = Timestamp(allow_none=True)
    status = fields.Boolean()
