"""The `fake` payment provider: in-process Pix charges for development, demos and tests.

Charges get txids `FAKE<32 hex>` and live in Redis (one hash per app namespace) when
REDIS_URL is set, so web processes and workers share them; otherwise in a module dict.
`confirm(txid)` plays the payer: it marks a charge CONCLUIDA, after which the webhook
`POST /subscription/webhook/fake {"txid"}` applies it like a real notification. The store
(a Redis client and the key namespace) comes in the `PaymentSettings`.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from whaticket.payments.base import (
    STATUS_ACTIVE,
    STATUS_PAID,
    Charge,
    ChargeRequest,
    PaymentError,
    PaymentProvider,
    PaymentSettings,
    money,
    payer_note,
)

_KEY_PREFIX = "whaticket:fake:payments"
_memory: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


def _key(settings: PaymentSettings) -> str:
    """The store key; tests' per-app namespace keeps their charges apart."""
    ns = settings.namespace
    return f"{_KEY_PREFIX}:{ns}" if ns else _KEY_PREFIX


def _save(settings: PaymentSettings, body: dict[str, Any]) -> None:
    raw = json.dumps(body)
    if settings.redis is not None:
        settings.redis.hset(_key(settings), body["txid"], raw)
        return
    with _lock:
        _memory.setdefault(_key(settings), {})[body["txid"]] = raw


def _load(settings: PaymentSettings, txid: str) -> dict[str, Any] | None:
    if settings.redis is not None:
        raw = settings.redis.hget(_key(settings), txid)
    else:
        with _lock:
            raw = _memory.get(_key(settings), {}).get(txid)
    return json.loads(raw) if raw else None


def _charge(body: dict[str, Any]) -> Charge:
    return Charge(
        txid=body["txid"],
        status=body["status"],
        amount=Decimal(body["valor"]["original"]),
        qrcode=body["pixCopiaECola"],
        qrcode_image=body["imagemQrcode"],
        expires_at=None,
        raw=body,
    )


class FakeProvider(PaymentProvider):
    """In-process charges; nothing leaves the machine."""

    name = "fake"

    def create_charge(self, request: ChargeRequest) -> Charge:
        """Store an ATIVA charge with a fake Pix code and image."""
        amount, expires_in = request.amount, int(request.expires_in)
        txid = "FAKE" + uuid.uuid4().hex
        now = self.settings.clock()
        code = f"00020126580014BR.GOV.BCB.PIX0136fake-{txid}5204000053039865405{money(amount)}"
        body = {
            "calendario": {
                "criacao": now.isoformat().replace("+00:00", "Z"),
                "expiracao": int(expires_in),
            },
            "txid": txid,
            "revisao": 0,
            "status": STATUS_ACTIVE,
            "valor": {"original": money(amount)},
            "chave": "fake-pix-key",
            "solicitacaoPagador": payer_note(request.invoice_id),
            "pixCopiaECola": code,
            # A 1x1 transparent PNG: enough for a frontend <img>.
            "imagemQrcode": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1"
            "HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
        }
        _save(self.settings, body)
        charge = _charge(body)
        charge.expires_at = now + timedelta(seconds=int(expires_in))
        return charge

    def fetch_charge(self, txid: str) -> Charge:
        """The stored charge; PaymentError 404 when unknown."""
        body = _load(self.settings, txid)
        if body is None:
            raise PaymentError("ERR_CHARGE_NOT_FOUND", txid, status=404)
        return _charge(body)

    def register_webhook(self, url: str) -> None:
        """Nothing to register: the fake webhook is called directly."""

    def confirm(self, txid: str) -> Charge:
        """Mark a charge paid (CONCLUIDA), as if the payer had paid it; 404 when unknown."""
        body = _load(self.settings, txid)
        if body is None:
            raise PaymentError("ERR_CHARGE_NOT_FOUND", txid, status=404)
        if body["status"] == STATUS_ACTIVE:
            body["status"] = STATUS_PAID
            body["pix"] = [
                {
                    "endToEndId": "E" + uuid.uuid4().hex[:31].upper(),
                    "txid": txid,
                    "valor": body["valor"]["original"],
                    "horario": self.settings.clock().isoformat().replace("+00:00", "Z"),
                }
            ]
            _save(self.settings, body)
        return _charge(body)
