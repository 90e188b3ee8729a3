"""A stub of the Efí Pix API on 127.0.0.1 (plain HTTP: mTLS is not exercised), for tests.

It answers as Efí documents: `POST /oauth/token` (HTTP Basic client_id:client_secret,
`{"grant_type": "client_credentials"}`) gives `{access_token, token_type, expires_in,
scope}`; `PUT /v2/cob/{txid}` creates an ATIVA immediate charge (201, with `loc` and
`pixCopiaECola`); `GET /v2/cob/{txid}` answers it (with `pix[]` once paid);
`GET /v2/loc/{id}/qrcode` answers `{qrcode, imagemQrcode, linkVisualizacao}`;
`PUT /v2/webhook/{chave}` stores `webhookUrl`. Bad tokens answer 401, unknown charges
404 with Bacen's problem body. `conclude(txid)` plays the payer. Requests are recorded.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

import pytest

from tests.stubs.base import Recorded, StubServer

CLIENT_ID = "Client_Id_stub"
CLIENT_SECRET = "Client_Secret_stub"
PIX_KEY = "pix-key@example.com"
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8"
    "AAAAASUVORK5CYII="
)
TXID_RE = re.compile(r"^[a-zA-Z0-9]{26,35}$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class EfiStub(StubServer[Recorded]):
    """The stub server: start(), `url` (EFI_BASE_URL), `requests`, conclude(), stop()."""

    methods = ("GET", "POST", "PUT")

    def __init__(self) -> None:
        super().__init__()
        self.charges: dict[str, dict[str, Any]] = {}
        self.locs: dict[int, str] = {}
        self.webhooks: dict[str, str] = {}
        self.tokens: set[str] = set()
        #: `expires_in` of the next tokens issued.
        self.token_lifetime = 3600
        self._loc_ids = itertools.count(101)

    def conclude(self, txid: str, amount: str | None = None) -> None:
        """Mark a charge paid (CONCLUIDA) with one `pix[]` entry, as after a real payment."""
        with self._lock:
            cob = self.charges[txid]
            cob["status"] = "CONCLUIDA"
            cob["pix"] = [
                {
                    "endToEndId": "E09089356202612051300" + uuid.uuid4().hex[:11],
                    "txid": txid,
                    "valor": amount or cob["valor"]["original"],
                    "horario": _now(),
                    "infoPagador": "pagando a fatura",
                }
            ]

    def token_requests(self) -> list[Recorded]:
        """The recorded POST /oauth/token requests."""
        return [r for r in self.requests if r.path == "/oauth/token"]

    # -- HTTP --

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record the request, then answer it by route."""
        raw = self._read_body(h)
        rec = Recorded(method=method, path=h.path, headers=dict(h.headers.items()))
        if raw:
            try:
                rec.json = json.loads(raw)
            except ValueError:
                rec.json = None
        with self._lock:
            self.requests.append(rec)
        path = h.path.split("?", 1)[0]
        if method == "POST" and path == "/oauth/token":
            self._token(h, rec)
            return
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            self._reply(h, 401, {"nome": "invalid_token", "mensagem": "Token inválido"})
            return
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "PUT" and parts[:2] == ["v2", "cob"] and len(parts) == 3:
            self._create(h, parts[2], rec.json)
        elif method == "GET" and parts[:2] == ["v2", "cob"] and len(parts) == 3:
            cob = self.charges.get(parts[2])
            if cob is None:
                self._not_found(h)
            else:
                self._reply(h, 200, cob)
        elif method == "GET" and parts[:2] == ["v2", "loc"] and len(parts) == 4:
            txid = self.locs.get(int(parts[2])) if parts[2].isdigit() else None
            if txid is None or parts[3] != "qrcode":
                self._reply(h, 404, {"nome": "location_nao_encontrada", "mensagem": "..."})
                return
            self._reply(
                h,
                200,
                {
                    "qrcode": self.charges[txid]["pixCopiaECola"],
                    "imagemQrcode": PNG,
                    "linkVisualizacao": f"https://pix.sejaefi.com.br/cob/pagar/{txid}",
                },
            )
        elif method == "PUT" and parts[:2] == ["v2", "webhook"] and len(parts) == 3:
            url = (rec.json or {}).get("webhookUrl")
            if not isinstance(url, str) or not url:
                self._reply(h, 400, {"nome": "json_invalido", "mensagem": "webhookUrl"})
                return
            self.webhooks[parts[2]] = url
            self._reply(h, 200, {"webhookUrl": url})
        else:
            self._reply(h, 404, {"nome": "rota_nao_encontrada", "mensagem": path})

    def _token(self, h: BaseHTTPRequestHandler, rec: Recorded) -> None:
        """Client credentials in HTTP Basic; the grant in the JSON body."""
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if h.headers.get("Authorization") != f"Basic {expected}":
            self._reply(
                h,
                401,
                {"error": "invalid_client", "error_description": "Invalid or inactive credentials"},
            )
            return
        if (rec.json or {}).get("grant_type") != "client_credentials":
            self._reply(h, 400, {"error": "unsupported_grant_type"})
            return
        token = uuid.uuid4().hex
        with self._lock:
            self.tokens.add(token)
        self._reply(
            h,
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": "cob.read cob.write pix.read pix.write webhook.read webhook.write",
            },
        )

    def _create(self, h: BaseHTTPRequestHandler, txid: str, body: Any) -> None:
        """An immediate charge (`PUT /v2/cob/{txid}`) answered 201 as Efí does."""
        if not TXID_RE.match(txid):
            self._reply(
                h,
                400,
                {
                    "type": "https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida",
                    "title": "Cobrança inválida.",
                    "status": 400,
                    "detail": "O campo txid não respeita o schema.",
                },
            )
            return
        body = body if isinstance(body, dict) else {}
        try:
            value = body["valor"]["original"]
            key = body["chave"]
        except (KeyError, TypeError):
            self._reply(h, 400, {"nome": "json_invalido", "mensagem": "valor.original, chave"})
            return
        loc_id = next(self._loc_ids)
        cob = {
            "calendario": {
                "criacao": _now(),
                "expiracao": int((body.get("calendario") or {}).get("expiracao") or 86400),
            },
            "txid": txid,
            "revisao": 0,
            "loc": {
                "id": loc_id,
                "location": f"pix.example.com/qr/v2/{uuid.uuid4().hex}",
                "tipoCob": "cob",
            },
            "location": f"pix.example.com/qr/v2/{uuid.uuid4().hex}",
            "status": "ATIVA",
            "valor": {"original": value},
            "chave": key,
            "solicitacaoPagador": body.get("solicitacaoPagador"),
            "pixCopiaECola": f"00020101021226830014BR.GOV.BCB.PIX2561pix.example.com/{txid}"
            f"52040000530398654{len(value):02d}{value}5802BR6304ABCD",
        }
        with self._lock:
            self.charges[txid] = cob
            self.locs[loc_id] = txid
        self._reply(h, 201, cob)

    def _not_found(self, h: BaseHTTPRequestHandler) -> None:
        self._reply(
            h,
            404,
            {
                "type": "https://pix.bcb.gov.br/api/v2/error/CobNaoEncontrado",
                "title": "Cobrança não encontrada.",
                "status": 404,
                "detail": "Cobrança não encontrada para o txid informado.",
            },
        )


@pytest.fixture(name="efi_stub")
def efi_stub_fixture() -> Iterator[EfiStub]:
    """A running Efí stub, stopped after the test (import this to use `efi_stub`)."""
    stub = EfiStub().start()
    yield stub
    stub.stop()
