"""Plans screen (PlansManager): prices typed or pre-filled the pt-BR way are accepted exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Plan

FLAGS = {
    "useCampaigns": True,
    "useSchedules": True,
    "useInternalChat": True,
    "useExternalApi": True,
    "useKanban": True,
    "useOpenAi": True,
    "useIntegrations": True,
}


def _pt_br(value: float) -> str:
    """`value.toLocaleString('pt-br', {minimumFractionDigits: 0})` (PlansManager:519):
    "." between thousands, "," before at most three decimals, trailing zeros dropped."""
    whole, _, fraction = f"{value:.3f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    fraction = fraction.rstrip("0")
    return f"{grouped},{fraction}" if fraction else grouped


def _form(name: str, value, **extra) -> dict:
    """What the form submits (usePlans save/update): its fields as typed."""
    return {
        "name": name,
        "users": 5,
        "connections": 2,
        "queues": 3,
        "value": value,
        **FLAGS,
        **extra,
    }


def _stored(plan_id: int) -> Decimal:
    db.session.expire_all()
    return db.session.get(Plan, plan_id).value


@pytest.mark.parametrize(
    ("typed", "exact"),
    [
        ("29,9", Decimal("29.90")),
        ("29,90", Decimal("29.90")),
        ("1.234,50", Decimal("1234.50")),
        ("1.234", Decimal("1234.00")),
        ("29.90", Decimal("29.90")),
        ("R$ 49,99", Decimal("49.99")),
        (29.9, Decimal("29.90")),
        (30, Decimal("30.00")),
    ],
)
def test_create_accepts_pt_br_prices(client, prefix, superuser, auth, typed, exact):
    """src/hooks/usePlans/index.js:32 POSTs /plans with the "Valor" text field as typed
    (src/components/PlansManager/index.js)."""
    resp = client.post(f"{prefix}/plans", json=_form("Pro", typed), headers=auth(superuser))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["value"] == float(exact)
    assert _stored(body["id"]) == exact


def test_editing_a_plan_with_cents_keeps_its_price(client, prefix, superuser, auth):
    """PlansManager:519 pre-fills the edit form with value.toLocaleString('pt-br') and
    src/hooks/usePlans/index.js:41 PUTs it back: 29.9 -> "29,9", 1234.5 -> "1.234,5"."""
    headers = auth(superuser)
    created = client.post(f"{prefix}/plans", json=_form("Basic", "29,90"), headers=headers)
    plan_id = created.get_json()["id"]
    steps = [(None, Decimal("29.90")), ("1.234,50", Decimal("1234.50")), ("7,05", Decimal("7.05"))]
    for typed, price in steps:
        if typed is not None:
            resp = client.put(
                f"{prefix}/plans/{plan_id}", json=_form("Basic", typed), headers=headers
            )
            assert resp.status_code == 200, resp.get_json()
            assert _stored(plan_id) == price
        shown = client.get(f"{prefix}/plans", headers=headers).get_json()["plans"]
        (row,) = [p for p in shown if p["id"] == plan_id]
        prefilled = _form(row["name"], _pt_br(row["value"]), id=plan_id)
        resp = client.put(f"{prefix}/plans/{plan_id}", json=prefilled, headers=headers)
        assert resp.status_code == 200, (prefilled["value"], resp.get_json())
        assert _stored(plan_id) == price


@pytest.mark.parametrize("typed", ["abc", "1.234.5", "1,2,3", "12,345,6", "-5", "0,001", ""])
def test_unreadable_prices_are_400(client, prefix, superuser, auth, typed):
    resp = client.post(f"{prefix}/plans", json=_form("Bad", typed), headers=auth(superuser))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "value" in body["fields"]


def test_more_than_cents_is_refused_not_rounded(client, prefix, superuser, auth):
    resp = client.post(f"{prefix}/plans", json=_form("Odd", 10.555), headers=auth(superuser))
    assert resp.status_code == 400 and "value" in resp.get_json()["fields"]


def test_only_super_users_write_plans(client, prefix, admin, auth):
    plan = factories.PlanFactory(value=10)
    headers = auth(admin)
    assert (
        client.post(f"{prefix}/plans", json=_form("X", "9,90"), headers=headers).status_code == 403
    )
    resp = client.put(f"{prefix}/plans/{plan.id}", json=_form("X", "9,90"), headers=headers)
    assert resp.status_code == 403 and _stored(plan.id) == Decimal("10.00")
