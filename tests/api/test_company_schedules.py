"""`PUT /companies/<id>/schedules`: office hours, time zone and closed dates of a company."""

from __future__ import annotations

from whaticket.extensions import db
from whaticket.models import Company

MONDAY = {
    "weekday": "Segunda-feira",
    "weekdayEn": "monday",
    "startTime": "08:00",
    "endTime": "18:00",
}


def _put(client, prefix, auth, user, company_id, body):
    return client.put(f"{prefix}/companies/{company_id}/schedules", json=body, headers=auth(user))


def test_admin_sets_hours_zone_and_closed_dates(client, prefix, auth, admin, company):
    resp = _put(
        client,
        prefix,
        auth,
        admin,
        company.id,
        {
            "schedules": [MONDAY],
            "timezone": "America/Manaus",
            "closedDates": ["2026-12-25", "2026-01-01", "2026-12-25"],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["schedules"] == [MONDAY]
    assert body["timezone"] == "America/Manaus"
    assert body["closedDates"] == ["2026-01-01", "2026-12-25"]
    db.session.expire_all()
    stored = db.session.get(Company, company.id)
    assert stored.timezone == "America/Manaus" and stored.schedules == [MONDAY]


def test_bad_input_is_400_with_fields_and_changes_nothing(client, prefix, auth, admin, company):
    for body, field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"closedDates": ["2026-13-40"]}, "closedDates"),
        ({"schedules": [{**MONDAY, "startTime": "25:00"}]}, "schedules"),
        ({"schedules": [MONDAY, MONDAY]}, "schedules"),
    ):
        resp = _put(client, prefix, auth, admin, company.id, body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"] == "ERR_VALIDATION"
        assert field in resp.get_json()["fields"]
    db.session.expire_all()
    stored = db.session.get(Company, company.id)
    assert stored.timezone == "America/Sao_Paulo" and not stored.schedules


def test_agents_and_other_companies_are_refused(client, prefix, auth, agent, company, other_admin):
    assert _put(client, prefix, auth, agent, company.id, {"schedules": []}).status_code == 403
    assert _put(client, prefix, auth, other_admin, company.id, {"schedules": []}).status_code == 404
    assert client.put(f"{prefix}/companies/{company.id}/schedules", json={}).status_code == 401


def test_super_user_may_set_any_company(client, prefix, auth, superuser, other_admin):
    other_id = other_admin.company_id
    resp = _put(client, prefix, auth, superuser, other_id, {"timezone": "Europe/Lisbon"})
    assert resp.status_code == 200 and resp.get_json()["timezone"] == "Europe/Lisbon"
