"""Integration modal, "Testar Bot": `POST /queueIntegration/testSession` answers why, never 404."""

from __future__ import annotations

import json

import pytest

from whaticket.extensions import db
from whaticket.models import Plan, QueueIntegration

#: A Google service-account key file as the Dialogflow console downloads it (fake key).
SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "atendimento-bot-1a2b3",
    "private_key_id": "0123456789abcdef",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    "-----END PRIVATE KEY-----\n",
    "client_email": "dialogflow@atendimento-bot-1a2b3.iam.gserviceaccount.com",
    "client_id": "104857600000000000000",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
}


def _test(client, prefix, headers, **over):
    """What handleTestSession posts: the form's {projectName, jsonContent, language}."""
    body = {
        "projectName": "atendimento-bot-1a2b3",
        "jsonContent": json.dumps(SERVICE_ACCOUNT),
        "language": "pt-BR",
        **over,
    }
    return client.post(f"{prefix}/queueIntegration/testSession", json=body, headers=headers)


def test_valid_settings_say_dialogflow_is_not_run(client, prefix, admin, auth):
    """src/components/QueueIntegrationModal/index.js:138 ("Testar Bot") shows the answer's
    `error` in a toast (toastError); it must name the reason, not ERR_NOT_FOUND."""
    resp = _test(client, prefix, auth(admin))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_DIALOGFLOW_NOT_SUPPORTED"}
    assert db.session.query(QueueIntegration).count() == 0  # a test stores nothing


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[1, 2]",
        json.dumps({**SERVICE_ACCOUNT, "type": "authorized_user"}),
        json.dumps({k: v for k, v in SERVICE_ACCOUNT.items() if k != "private_key"}),
        json.dumps({**SERVICE_ACCOUNT, "private_key": "secret"}),
        json.dumps({**SERVICE_ACCOUNT, "client_email": "nobody"}),
    ],
)
def test_a_json_that_is_not_a_service_account_key(client, prefix, admin, auth, content):
    resp = _test(client, prefix, auth(admin), jsonContent=content)
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_INVALID_DIALOGFLOW_CREDENTIALS"}


def test_missing_project_or_bad_language_is_a_validation_error(client, prefix, admin, auth):
    resp = _test(client, prefix, auth(admin), projectName="", language="português!")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert {"projectName", "language"} <= set(body["fields"])


def test_admins_only_with_the_plan_feature(client, prefix, admin, agent, auth, company):
    """Like the other /queueIntegration writes: admins only, behind useIntegrations."""
    resp = _test(client, prefix, auth(agent))
    assert resp.status_code == 403 and resp.get_json()["error"] == "ERR_NO_PERMISSION"
    assert client.post(f"{prefix}/queueIntegration/testSession", json={}).status_code == 401
    plan = db.session.get(Plan, company.plan_id)
    plan.use_integrations = False
    db.session.commit()
    resp = _test(client, prefix, auth(admin))
    assert resp.status_code == 403 and resp.get_json()["error"] == "ERR_PLAN_FEATURE_DISABLED"
