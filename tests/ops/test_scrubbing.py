"""No log line holds a credential or a message body: a whole workspace flow, every line
of it (both formats, DEBUG and up) grepped for each secret it handled."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from urllib.parse import unquote

import pytest

from tests import factories
from tests.ops.capture import all_logs
from tests.stubs import smtp
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID, TEXT_DELIVERY
from whaticket.security import hash_password
from whaticket.utils.crypto import encrypt_json

smtp_capture = smtp.smtp_capture

PASSWORD = "Old-Pass-w0rd-7781"
NEW_PASSWORD = "New-Pass-w0rd-3390"
APP_SECRET = "app-secret-5521"
INBOUND_BODY = "inbound body the customer wrote 4417"
OUTBOUND_BODY = "outbound body the agent wrote 9032"


@pytest.fixture
def conn(app, company, graph_stub):
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        is_default=True,
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": APP_SECRET,
                "verifyToken": "verify-token-6610",
                "baseUrl": graph_stub.url,
            }
        ),
    )


def test_a_workspace_flow_logs_no_secret_and_no_body(
    app, client, prefix, company, conn, smtp_capture
):
    app.config.update(
        LOG_FORMAT="json",
        ACCESS_LOG=True,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_capture.port,
        SMTP_SECURITY="none",
    )
    admin = factories.AdminFactory(company=company, password_hash=hash_password(PASSWORD))
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, APP_SECRET, TOKEN, "verify-token-6610"]
    bodies = [INBOUND_BODY, OUTBOUND_BODY]

    def call(method: str, path: str, **kwargs):
        resp = client.open(prefix + path, method=method, **kwargs)
        resp.close()  # as a server does: the access line is written
        return resp

    with all_logs() as logs:
        # Log in (a wrong password first), keeping the access token and refresh cookie.
        call("POST", "/auth/login", json={"email": admin.email, "password": "Wrong-" + PASSWORD})
        resp = call("POST", "/auth/login", json={"email": admin.email, "password": PASSWORD})
        assert resp.status_code == 200, resp.get_json()
        access = resp.get_json()["token"]
        cookie = client.get_cookie("jrt")
        secrets += [access, cookie.value]
        bearer = {"Authorization": f"Bearer {access}"}

        # An inbound message through the signed Cloud webhook.
        delivery = copy.deepcopy(TEXT_DELIVERY)
        delivery["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = INBOUND_BODY
        raw = json.dumps(delivery).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        secrets.append(signature.split("=", 1)[1])
        resp = call(
            "POST",
            "/webhooks/cloud",
            data=raw,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature},
        )
        assert resp.status_code == 200
        tickets = call("GET", "/tickets", headers=bearer).get_json()["tickets"]

        # The agent answers (sent through the Graph stub with the connection's token).
        resp = call(
            "POST", f"/messages/{tickets[0]['id']}", json={"body": OUTBOUND_BODY}, headers=bearer
        )
        assert resp.status_code == 200, resp.get_json()

        # A refresh, an API token made and used.
        call("POST", "/auth/refresh_token")
        resp = call(
            "POST", "/api-tokens", json={"name": "CRM", "scopes": ["tickets:read"]}, headers=bearer
        )
        api_token = resp.get_json()["token"]
        secrets.append(api_token)
        assert (
            call("GET", "/v1/tickets", headers={"Authorization": f"Bearer {api_token}"}).status_code
            == 200
        )
        call("GET", "/v1/tickets", headers={"Authorization": "Bearer wtk_not-a-real-one-1234"})

        # Password reset: mailed token, new password; the SaaS page's path form too.
        call("POST", "/auth/forgot-password", json={"email": admin.email})
        match = re.search(r"token=([A-Za-z0-9_\-%]+)", smtp_capture.mails[-1].text())
        assert match, smtp_capture.text()
        reset_token = unquote(match.group(1))
        secrets.append(reset_token)
        resp = call(
            "POST", "/auth/reset-password", json={"token": reset_token, "password": NEW_PASSWORD}
        )
        assert resp.status_code in (200, 204), resp.get_json()
        call("GET", f"/resetpasswords/{admin.email}/123456/{NEW_PASSWORD}")

    text = logs.text()
    assert logs.lines(), "nothing was logged"
    assert any(line["logger"] == "whaticket.access" for line in logs.lines())
    for secret in secrets:
        assert secret and secret not in text, f"a secret reached the logs: {secret[:12]}..."
    for body in bodies:
        assert body not in text, f"a message body reached the logs: {body}"
