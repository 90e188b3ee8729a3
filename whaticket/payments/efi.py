"""The `efi` payment provider: Efí (ex-Gerencianet) Pix API immediate charges.

Settings (`PaymentSettings`, from the app config by `services/billing/payments.py`): `base_url`
(EFI_BASE_URL, default https://pix.api.efipay.com.br; the sandbox is
https://pix-h.api.efipay.com.br), `client_id`/`client_secret` (EFI_CLIENT_ID,
EFI_CLIENT_SECRET), `cert_path` (EFI_CERT_PATH: one PEM holding the certificate and its
key, for the mTLS every Efí call requires; left out when unset, as with the test stub),
`pix_key` (EFI_PIX_KEY, the receiving Pix key).

* `POST /oauth/token` with HTTP Basic client_id:client_secret and
  `{"grant_type": "client_credentials"}`; the access token is cached per process until
  shortly before `expires_in`, and dropped when a call answers 401.
* `PUT /v2/cob/{txid}` creates the charge (`calendario.expiracao`, `valor.original`,
  `chave`, `solicitacaoPagador`), `GET /v2/loc/{loc.id}/qrcode` its copy-and-paste code and
  image, `GET /v2/cob/{txid}` its current status, `PUT /v2/webhook/{chave}` the webhook.
* Error bodies (Efí's `{nome, mensagem}` or Bacen's `{title, detail, status}`) and network
  failures become PaymentError; a missing charge is 404 ERR_CHARGE_NOT_FOUND.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import requests

from whaticket.payments.base import (
    TIMEOUT,
    Charge,
    ChargeRequest,
    PaymentError,
    PaymentProvider,
    PaymentSettings,
    money,
    payer_note,
)
from whaticket.utils import outbound

DEFAULT_BASE_URL = "https://pix.api.efipay.com.br"
__all__ = ["DEFAULT_BASE_URL", "TIMEOUT", "EfiProvider", "clear_token_cache"]
#: A token is renewed this many seconds before Efí says it expires (clock skew, latency).
TOKEN_MARGIN = 60

#: (base_url, client_id) -> (access token, monotonic expiry).
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
#: The clock the token cache uses (tests replace it to jump past an expiry).
_clock = time.monotonic


def clear_token_cache() -> None:
    """Forget every cached access token."""
    with _tokens_lock:
        _tokens.clear()


def error_from_response(resp: requests.Response) -> PaymentError:
    """An Efí error response as a PaymentError."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    detail = " - ".join(
        str(body[key])
        for key in ("nome", "mensagem", "title", "detail", "error", "error_description")
        if body.get(key)
    )
    message = detail or f"Efí answered HTTP {resp.status_code}"
    if resp.status_code == 404:
        return PaymentError("ERR_CHARGE_NOT_FOUND", message, status=404)
    retryable = resp.status_code >= 500 or resp.status_code == 429
    return PaymentError(f"ERR_EFI_HTTP_{resp.status_code}", message, retryable=retryable)


def _parse_time(value: Any) -> datetime | None:
    """An Efí timestamp ("2026-05-24T13:00:00Z" or with a .mmm fraction) as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _amount(body: dict[str, Any]) -> Decimal | None:
    """`valor.original` as a Decimal (None when absent or malformed)."""
    try:
        return Decimal(str((body.get("valor") or {})["original"]))
    except (KeyError, TypeError, InvalidOperation):
        return None


def _charge(body: dict[str, Any]) -> Charge:
    """A cob body as a Charge (expiry = calendario.criacao + calendario.expiracao)."""
    cal = body.get("calendario") or {}
    created = _parse_time(cal.get("criacao"))
    expires_at = None
    if created is not None and isinstance(cal.get("expiracao"), int):
        expires_at = created + timedelta(seconds=cal["expiracao"])
    return Charge(
        txid=str(body.get("txid") or ""),
        status=str(body.get("status") or ""),
        amount=_amount(body),
        qrcode=body.get("pixCopiaECola"),
        qrcode_image=None,
        expires_at=expires_at,
        raw=body,
    )


class EfiProvider(PaymentProvider):
    """Efí Pix over HTTPS with mTLS; credentials come in the settings."""

    name = "efi"

    def __init__(self, settings: PaymentSettings | None = None) -> None:
        super().__init__(settings)
        self.base_url = (self.settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.client_id = self.settings.client_id
        self.client_secret = self.settings.client_secret
        self.cert_path = self.settings.cert_path or None
        self.pix_key = self.settings.pix_key

    # -- plumbing --

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP request; network failures become a retryable PaymentError."""
        if self.cert_path:
            # Efí refuses any call, the token included, without the client certificate.
            kwargs["cert"] = self.cert_path
        outbound.check_no_transaction(f"Efí {method} {path.split('?')[0]}")
        try:
            url = f"{self.base_url}{path}"
            return requests.request(method, url, timeout=self.settings.timeout, **kwargs)
        except requests.RequestException as exc:
            raise PaymentError(
                "ERR_PAYMENT_PROVIDER_UNAVAILABLE", f"Efí unreachable: {exc}", retryable=True
            ) from exc
        except OSError as exc:  # requests raises it for a missing certificate file
            raise PaymentError("ERR_PAYMENT_NOT_CONFIGURED", f"EFI_CERT_PATH: {exc}") from exc

    def token(self) -> str:
        """A valid access token, from the cache or a fresh client-credentials grant."""
        if not self.client_id or not self.client_secret:
            raise PaymentError("ERR_PAYMENT_NOT_CONFIGURED", "EFI_CLIENT_ID/SECRET unset")
        key = (self.base_url, self.client_id)
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached is not None and cached[1] > _clock():
            return cached[0]
        resp = self._send(
            "POST",
            "/oauth/token",
            json={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
        )
        if resp.status_code != 200:
            err = error_from_response(resp)
            if resp.status_code in (400, 401, 403):
                err = PaymentError("ERR_EFI_AUTH", err.message)
            raise err
        try:
            body = resp.json()
            token = str(body["access_token"])
            lifetime = int(body.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise PaymentError("ERR_EFI_BAD_RESPONSE", "token response unreadable") from exc
        with _tokens_lock:
            _tokens[key] = (token, _clock() + max(lifetime - TOKEN_MARGIN, 0))
        return token

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        """One authenticated API call answering JSON; a 401 renews the token once."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            resp = self._send(method, path, json=json, headers=headers)
            if resp.status_code == 401 and attempt == 1:
                # Revoked or expired early: forget it and try once with a fresh one.
                with _tokens_lock:
                    _tokens.pop((self.base_url, self.client_id), None)
                continue
            if resp.status_code >= 400:
                raise error_from_response(resp)
            if not resp.content:
                return {}
            try:
                body = resp.json()
            except ValueError as exc:
                raise PaymentError("ERR_EFI_BAD_RESPONSE", f"{method} {path}: not JSON") from exc
            return body if isinstance(body, dict) else {}
        raise PaymentError("ERR_EFI_AUTH", "token refused twice")  # pragma: no cover

    # -- the interface --

    def create_charge(self, request: ChargeRequest) -> Charge:
        """`PUT /v2/cob/{txid}` for the invoice, then its QR code from the location."""
        if not self.pix_key:
            raise PaymentError("ERR_PAYMENT_NOT_CONFIGURED", "EFI_PIX_KEY unset")
        # Our own txid (Efí wants 26-35 letters and digits): a retried PUT is idempotent.
        txid = uuid.uuid4().hex
        expires_in = int(request.expires_in)
        body = {
            "calendario": {"expiracao": expires_in},
            "valor": {"original": money(request.amount)},
            "chave": self.pix_key,
            "solicitacaoPagador": payer_note(request.invoice_id),
        }
        cob = self._call("PUT", f"/v2/cob/{txid}", json=body)
        charge = _charge(cob)
        charge.txid = charge.txid or txid
        if charge.expires_at is None:
            charge.expires_at = self.settings.clock() + timedelta(seconds=expires_in)
        loc_id = (cob.get("loc") or {}).get("id")
        if loc_id is not None:
            qr = self._call("GET", f"/v2/loc/{int(loc_id)}/qrcode")
            charge.qrcode = qr.get("qrcode") or charge.qrcode
            charge.qrcode_image = qr.get("imagemQrcode")
            charge.raw = dict(cob, qrcode=qr)
        return charge

    def fetch_charge(self, txid: str) -> Charge:
        """`GET /v2/cob/{txid}`: the charge as Efí holds it."""
        return _charge(self._call("GET", f"/v2/cob/{txid}"))

    def register_webhook(self, url: str) -> None:
        """`PUT /v2/webhook/{chave}`: Efí then POSTs Pix notifications to `url` + "/pix"."""
        if not self.pix_key:
            raise PaymentError("ERR_PAYMENT_NOT_CONFIGURED", "EFI_PIX_KEY unset")
        # Keys may be e-mails or "+55..." phones: quote them as one path segment.
        self._call("PUT", f"/v2/webhook/{quote(self.pix_key, safe='')}", json={"webhookUrl": url})
