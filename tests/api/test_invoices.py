"""Invoices API: scoped lists and reads, super-user status edits and deletion."""

from __future__ import annotations

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Invoice

INVOICE_KEYS = {
    "id",
    "companyId",
    "detail",
    "status",
    "value",
    "dueDate",
    "period",
    "paidAt",
    "createdAt",
    "updatedAt",
}


@pytest.fixture
def own(company) -> Invoice:
    """An open invoice of `company`."""
    return factories.InvoiceFactory(company=company, detail="Plano Ouro", value=49.9)


@pytest.fixture
def foreign(other_company) -> Invoice:
    """An open invoice of the other company."""
    return factories.InvoiceFactory(company=other_company, detail="Plano Prata")


def test_list_is_the_callers_company_only(client, prefix, auth, admin, own, foreign):
    resp = client.get(f"{prefix}/invoices", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"invoices", "count", "hasMore"}
    assert [i["id"] for i in body["invoices"]] == [own.id]
    assert body["count"] == 1 and body["hasMore"] is False
    assert set(body["invoices"][0]) == INVOICE_KEYS
    assert body["invoices"][0]["value"] == pytest.approx(49.9)
    assert body["invoices"][0]["dueDate"].endswith("Z")


def test_super_user_lists_every_company(client, prefix, auth, superuser, own, foreign):
    body = client.get(f"{prefix}/invoices", headers=auth(superuser)).get_json()
    assert [i["id"] for i in body["invoices"]] == [own.id, foreign.id]


def test_list_search_on_detail_and_pages(client, prefix, auth, superuser, own, foreign):
    body = client.get(f"{prefix}/invoices?searchParam=prata", headers=auth(superuser)).get_json()
    assert [i["id"] for i in body["invoices"]] == [foreign.id]
    for n in range(20):
        factories.InvoiceFactory(company=own.company, period=f"2030-01-{n + 1:02d}")
    page1 = client.get(f"{prefix}/invoices", headers=auth(superuser)).get_json()
    page2 = client.get(f"{prefix}/invoices?pageNumber=2", headers=auth(superuser)).get_json()
    assert len(page1["invoices"]) == 20 and page1["hasMore"] is True
    assert len(page2["invoices"]) == 2 and page2["hasMore"] is False
    assert page1["count"] == 22


def test_all_and_list_are_the_callers_company(client, prefix, auth, agent, own, foreign):
    for path in ("/invoices/all", "/invoices/list"):
        resp = client.get(f"{prefix}{path}", headers=auth(agent))
        assert resp.status_code == 200
        assert [i["id"] for i in resp.get_json()] == [own.id]


def test_lists_need_a_token(client, prefix, own):
    for path in ("/invoices", "/invoices/all", "/invoices/list", f"/invoices/{own.id}"):
        resp = client.get(f"{prefix}{path}")
        assert resp.status_code == 401
        assert resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_show_own_and_other_company_is_404(client, prefix, auth, agent, own, foreign):
    resp = client.get(f"{prefix}/invoices/{own.id}", headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["id"] == own.id
    resp = client.get(f"{prefix}/invoices/{foreign.id}", headers=auth(agent))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_NO_INVOICE_FOUND"}
    assert client.get(f"{prefix}/invoices/999999", headers=auth(agent)).status_code == 404


def test_super_user_shows_any_company(client, prefix, auth, superuser, foreign):
    resp = client.get(f"{prefix}/invoices/{foreign.id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json()["companyId"] == foreign.company_id


def test_update_status_is_super_only(client, prefix, auth, admin, agent, own):
    for user in (admin, agent):
        resp = client.put(
            f"{prefix}/invoices/{own.id}", json={"status": "paid"}, headers=auth(user)
        )
        assert resp.status_code == 403
        assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(Invoice, own.id).status == "open"


def test_super_user_updates_status_by_path_id(client, prefix, auth, superuser, own, foreign):
    # The SaaS took the id from the body: here the body's id is ignored.
    resp = client.put(
        f"{prefix}/invoices/{foreign.id}",
        json={"id": own.id, "status": "paid"},
        headers=auth(superuser),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == foreign.id and body["status"] == "paid" and body["paidAt"]
    db.session.expire_all()
    assert db.session.get(Invoice, own.id).status == "open"
    resp = client.put(
        f"{prefix}/invoices/{foreign.id}", json={"status": "open"}, headers=auth(superuser)
    )
    assert resp.get_json()["paidAt"] is None


def test_update_validation_and_missing(client, prefix, auth, superuser, own):
    resp = client.put(
        f"{prefix}/invoices/{own.id}", json={"status": "bogus"}, headers=auth(superuser)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    assert "status" in resp.get_json()["fields"]
    resp = client.put(f"{prefix}/invoices/{own.id}", json={}, headers=auth(superuser))
    assert resp.status_code == 400
    resp = client.put(f"{prefix}/invoices/999999", json={"status": "paid"}, headers=auth(superuser))
    assert resp.status_code == 404


def test_delete_is_super_only(client, prefix, auth, admin, superuser, own):
    assert client.delete(f"{prefix}/invoices/{own.id}", headers=auth(admin)).status_code == 403
    resp = client.delete(f"{prefix}/invoices/{own.id}", headers=auth(superuser))
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Invoice, own.id) is None
    assert client.delete(f"{prefix}/invoices/{own.id}", headers=auth(superuser)).status_code == 404
