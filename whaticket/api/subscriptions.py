"""Subscription endpoints: pay an invoice with Pix, provider webhooks, webhook registration.

The provider webhooks are public; a notification only names charges, which are then
fetched from the provider (never trusted from the body) by a job. Efí appends "/pix" to
the registered URL, and the SaaS registered `/subscription/webhook`, so those paths are
accepted too and mean the configured provider.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_jwt_extended import current_user, verify_jwt_in_request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.schemas.invoices import (
    ChargeSchema,
    FakeWebhookSchema,
    SubscriptionCreateSchema,
    WebhookRegisterSchema,
)
from whaticket.security import PUBLIC, auth_required, super_required
from whaticket.services.billing import payments
from whaticket.services.billing import subscriptions as subscription_service

blp = Blueprint(
    "subscriptions", __name__, url_prefix="/subscription", description="Subscription payments"
)

#: Path names that mean "the configured provider" (the SaaS `:type?` and Efí's "/pix").
_ALIASES = {"", "pix"}


@blp.post("")
@auth_required
@blp.arguments(SubscriptionCreateSchema)
@blp.response(200, ChargeSchema)
def create_subscription(data: dict):
    """Create (or reuse) a Pix charge for an open invoice of the caller's company."""
    prepared = subscription_service.prepare_charge(current_user, data["invoice_id"])
    company_id = current_user.company_id
    dbmod.commit()  # no transaction open while the provider answers
    if isinstance(prepared, subscription_service.ChargeOrder):
        charge = subscription_service.request_charge(prepared)
        prepared = subscription_service.record_charge(company_id, prepared, charge)
        dbmod.commit()
    return subscription_service.charge_view(prepared)


@blp.post("/create/webhook")
@super_required
@blp.arguments(WebhookRegisterSchema)
@blp.response(200)
def create_webhook(data: dict):
    """Register the payment webhook URL with the configured provider (super users)."""
    dbmod.commit()  # the caller's lookup: no transaction open while the provider answers
    url = subscription_service.register_webhook(data.get("url"))
    return {"ok": True, "webhookUrl": url}


def _require_super() -> None:
    """401 without a valid access token, 403 for anyone but a super user."""
    verify_jwt_in_request()
    if not getattr(current_user, "super", False):
        raise AppError("ERR_NO_PERMISSION", 403)


def _receive(provider: str) -> Any:
    """One provider notification: acknowledge, and check each named charge in a job."""
    configured = payments.provider_name()
    provider = configured if provider in _ALIASES else provider.lower()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "ERR_INVALID_JSON"}), 400
    if provider == "fake":
        # The fake "payer": only while fake is the configured provider, and only for a
        # signed-in super user (anyone else could pay their own invoices with it).
        _require_super()
        data = FakeWebhookSchema().load(body) if configured == "fake" else None
        if data is None:
            raise AppError("ERR_NOT_FOUND", 404)
        subscription_service.confirm_fake(data["txid"])
        subscription_service.enqueue_notifications("fake", [data["txid"]])
    elif provider == configured:
        if body.get("evento") == "teste_webhook":
            return jsonify({"ok": True})
        txids = subscription_service.notified_txids(body)
        subscription_service.enqueue_notifications(provider, txids)
    else:
        raise AppError("ERR_NOT_FOUND", 404)
    dbmod.commit()
    return jsonify({"ok": True})


@blp.route("/webhook", methods=["POST"])
@blp.doc(security=PUBLIC)
def webhook_default() -> Any:
    """The configured provider's notifications (the SaaS path without a type)."""
    return _receive("")


@blp.route("/webhook/<string:provider>", methods=["POST"])
@blp.doc(security=PUBLIC)
def webhook(provider: str) -> Any:
    """A provider's notifications (`efi`: `{"pix": [{"txid"}]}`; `fake`: `{"txid"}`)."""
    return _receive(provider)


@blp.route("/webhook/<string:provider>/pix", methods=["POST"])
@blp.doc(security=PUBLIC)
def webhook_pix(provider: str) -> Any:
    """The same, at the "/pix" suffix Efí appends to the registered URL."""
    return _receive(provider)
