"""Settings API: the caller's company settings, masked credentials, validated updates
and the company-{cid}-settings event (sent only after a successful commit)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Setting
from whaticket.services.team import settings as settings_service
from whaticket.services.team.settings import DEFAULTS, SECRET_KEYS

SETTING_KEYS = {"id", "key", "value", "companyId", "createdAt", "updatedAt"}
MASK = "********"


def _value(company_id: int, key: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Setting.value).where(Setting.company_id == company_id, Setting.key == key)
    )


def _set(company_id: int, **values: str) -> None:
    for key, value in values.items():
        row = db.session.scalar(
            sa.select(Setting).where(Setting.company_id == company_id, Setting.key == key)
        )
        row.value = value
    db.session.commit()


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


# -- GET /settings -------------------------------------------------------------


def test_list_settings_gives_only_the_callers_company(client, prefix, auth, admin, other_company):
    _set(other_company.id, userRating="enabled", ipixc="10.0.0.9")
    resp = client.get(f"{prefix}/settings", headers=auth(admin))
    assert resp.status_code == 200
    rows = resp.get_json()
    assert {r["key"] for r in rows} == set(DEFAULTS)
    assert len(rows) == len(DEFAULTS)
    assert all(set(r) == SETTING_KEYS for r in rows)
    assert {r["companyId"] for r in rows} == {admin.company_id}
    by_key = {r["key"]: r["value"] for r in rows}
    assert by_key["userRating"] == "disabled" and by_key["ipixc"] == ""


def test_agents_see_credentials_masked_admins_see_them(client, prefix, auth, admin, agent):
    _set(
        admin.company_id,
        asaas="asaas-key",
        tokenixc="ixc-token",
        clientsecretmkauth="mk-secret",
        ipixc="10.0.0.1",
    )
    # tokensgp stays empty: an empty credential is shown as empty, not masked.
    as_agent = {
        r["key"]: r["value"]
        for r in client.get(f"{prefix}/settings", headers=auth(agent)).get_json()
    }
    assert as_agent["asaas"] == MASK
    assert as_agent["tokenixc"] == MASK
    assert as_agent["clientsecretmkauth"] == MASK
    assert as_agent["tokensgp"] == ""
    assert as_agent["ipixc"] == "10.0.0.1"  # not a credential
    assert {k for k, v in as_agent.items() if v == MASK} <= SECRET_KEYS

    as_admin = {
        r["key"]: r["value"]
        for r in client.get(f"{prefix}/settings", headers=auth(admin)).get_json()
    }
    assert as_admin["asaas"] == "asaas-key"
    assert as_admin["tokenixc"] == "ixc-token"
    assert as_admin["clientsecretmkauth"] == "mk-secret"
    # Masking an agent's view never touches the stored value.
    assert _value(admin.company_id, "asaas") == "asaas-key"


def test_list_settings_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/settings")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- GET /settings/<key> -------------------------------------------------------


def test_show_setting_of_own_company(client, prefix, auth, admin, other_company):
    _set(admin.company_id, tokensgp="sgp-token")
    _set(other_company.id, tokensgp="their-token")
    resp = client.get(f"{prefix}/settings/tokensgp", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == SETTING_KEYS
    assert body["key"] == "tokensgp" and body["value"] == "sgp-token"
    assert body["companyId"] == admin.company_id


def test_show_unknown_setting_is_404(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/settings/noSuchKey", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_SETTING_FOUND"}


def test_show_setting_only_another_company_has_is_404(client, prefix, auth, admin, other_company):
    factories.SettingFactory(company=other_company, key="campaignsEnabled", value="true")
    resp = client.get(f"{prefix}/settings/campaignsEnabled", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_SETTING_FOUND"}


def test_show_setting_is_admin_only(client, prefix, auth, agent):
    resp = client.get(f"{prefix}/settings/asaas", headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_show_setting_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/settings/userRating")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- PUT /settings/<key> -------------------------------------------------------


def test_update_setting_changes_own_company_only(client, prefix, auth, admin, other_company):
    resp = client.put(
        f"{prefix}/settings/userRating", json={"value": "enabled"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == SETTING_KEYS
    assert body["key"] == "userRating" and body["value"] == "enabled"
    assert body["companyId"] == admin.company_id
    assert _value(admin.company_id, "userRating") == "enabled"
    assert _value(other_company.id, "userRating") == "disabled"


def test_update_setting_creates_a_missing_known_key(client, prefix, auth, admin):
    assert _value(admin.company_id, "campaignsEnabled") is None
    resp = client.put(
        f"{prefix}/settings/campaignsEnabled", json={"value": "true"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["value"] == "true"
    assert _value(admin.company_id, "campaignsEnabled") == "true"


def test_update_free_text_setting(client, prefix, auth, admin):
    resp = client.put(
        f"{prefix}/settings/ipmkauth", json={"value": "https://mk.example"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert _value(admin.company_id, "ipmkauth") == "https://mk.example"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("userRating", "yes"),
        ("scheduleType", "always"),
        ("chatBotType", "TEXT"),
        ("campaignsEnabled", "enabled"),
        ("ipixc", "x" * 2001),
    ],
)
def test_update_setting_rejects_disallowed_value(client, prefix, auth, admin, key, value):
    before = _value(admin.company_id, key)
    resp = client.put(f"{prefix}/settings/{key}", json={"value": value}, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "value" in body["fields"]
    assert _value(admin.company_id, key) == before


@pytest.mark.parametrize("payload", [{}, {"value": None}, {"value": 1}, {"value": ["enabled"]}])
def test_update_setting_payload_must_be_a_string_value(client, prefix, auth, admin, payload):
    resp = client.put(f"{prefix}/settings/userRating", json=payload, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "value" in body["fields"]
    assert _value(admin.company_id, "userRating") == "disabled"


def test_update_unknown_setting_is_404(client, prefix, auth, admin):
    resp = client.put(f"{prefix}/settings/noSuchKey", json={"value": "x"}, headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_SETTING_FOUND"}
    assert _value(admin.company_id, "noSuchKey") is None


def test_update_setting_is_admin_only(client, prefix, auth, agent):
    resp = client.put(
        f"{prefix}/settings/userRating", json={"value": "enabled"}, headers=auth(agent)
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _value(agent.company_id, "userRating") == "disabled"


def test_update_setting_needs_token(client, prefix, company):
    resp = client.put(f"{prefix}/settings/userRating", json={"value": "enabled"})
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _value(company.id, "userRating") == "disabled"


# -- the company-{cid}-settings event ------------------------------------------


def test_update_emits_settings_event_to_own_company_only(
    client, prefix, auth, admin, other_admin, socket_client
):
    mine = socket_client(admin)
    theirs = socket_client(other_admin)
    assert mine.is_connected() and theirs.is_connected()
    mine.get_received()
    theirs.get_received()

    resp = client.put(
        f"{prefix}/settings/userRating", json={"value": "enabled"}, headers=auth(admin)
    )
    assert resp.status_code == 200

    cid = admin.company_id
    received = mine.get_received()
    events = [e for e in received if e["name"] == f"company-{cid}-settings"]
    assert len(events) == 1, received
    payload = events[0]["args"][0]
    assert payload["action"] == "update"
    assert set(payload["setting"]) == SETTING_KEYS
    assert payload["setting"]["key"] == "userRating"
    assert payload["setting"]["value"] == "enabled"
    assert payload["setting"]["companyId"] == cid
    assert theirs.get_received() == []


def test_settings_event_masks_credentials(client, prefix, auth, admin, agent, socket_client):
    sock = socket_client(agent)
    sock.get_received()
    resp = client.put(f"{prefix}/settings/asaas", json={"value": "live-key"}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["value"] == "live-key"
    events = _events(sock, f"company-{admin.company_id}-settings")
    assert len(events) == 1
    assert events[0]["setting"]["key"] == "asaas" and events[0]["setting"]["value"] == MASK


def test_rejected_update_emits_nothing(client, prefix, auth, admin, socket_client):
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(f"{prefix}/settings/userRating", json={"value": "yes"}, headers=auth(admin))
    assert resp.status_code == 400
    resp = client.put(f"{prefix}/settings/noSuchKey", json={"value": "x"}, headers=auth(admin))
    assert resp.status_code == 404
    assert sock.get_received() == []


@pytest.mark.own_app
def test_event_emitted_in_a_failing_request_never_arrives(
    app, client, prefix, auth, admin, socket_client
):
    cid = admin.company_id

    def change_then_fail():
        # The real service registers the emit, then the request fails afterwards.
        settings_service.update_setting(cid, "userRating", "enabled")
        raise AppError("ERR_PROBE", 400)

    app.add_url_rule("/__probe__/change-then-fail", view_func=change_then_fail, methods=["POST"])
    sock = socket_client(admin)
    sock.get_received()

    resp = client.post("/__probe__/change-then-fail")
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_PROBE"}
    assert sock.get_received() == []
    assert _value(cid, "userRating") == "disabled"

    # The same socket does get the event from a request that succeeds.
    resp = client.put(
        f"{prefix}/settings/userRating", json={"value": "enabled"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert [e["action"] for e in _events(sock, f"company-{cid}-settings")] == ["update"]
