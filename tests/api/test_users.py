"""Users: list, picker, show, create, update, delete; roles, plan limit, tenancy, events."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db
from whaticket.models import User


def _new_user(**over):
    data = {"name": "Maria", "email": "maria@example.com", "password": "abcde1", "profile": "user"}
    data.update(over)
    return data


def _count_users(company_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)).where(User.company_id == company_id))


# -- list -------------------------------------------------------------------------


def test_list_is_paginated_newest_first_and_scoped(client, prefix, admin, auth, other_admin):
    for i in range(21):
        factories.UserFactory(company=admin.company, name=f"Agent {i:02d}")
    resp = client.get(f"{prefix}/users?pageNumber=1", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 22 and body["hasMore"] is True and len(body["users"]) == 20
    assert body["users"][0]["name"] == "Agent 20"
    assert all(u["companyId"] == admin.company_id for u in body["users"])
    page2 = client.get(f"{prefix}/users?pageNumber=2", headers=auth(admin)).get_json()
    assert len(page2["users"]) == 2 and page2["hasMore"] is False
    ids = {u["id"] for u in body["users"] + page2["users"]}
    assert other_admin.id not in ids


def test_list_searches_name_and_email(client, prefix, admin, auth):
    factories.UserFactory(company=admin.company, name="Zelda", email="zz@example.com")
    factories.UserFactory(company=admin.company, name="Bob", email="zelda.bob@example.com")
    factories.UserFactory(company=admin.company, name="Carl", email="carl@example.com")
    body = client.get(f"{prefix}/users?searchParam=ZELDA", headers=auth(admin)).get_json()
    assert sorted(u["name"] for u in body["users"]) == ["Bob", "Zelda"]


def test_list_search_treats_wildcards_literally(client, prefix, admin, auth):
    factories.UserFactory(company=admin.company, name="100% agent")
    factories.UserFactory(company=admin.company, name="1000 agent")
    body = client.get(f"{prefix}/users?searchParam=100%25", headers=auth(admin)).get_json()
    assert [u["name"] for u in body["users"]] == ["100% agent"]


def test_list_rejects_bad_page_number(client, prefix, admin, auth):
    resp = client.get(f"{prefix}/users?pageNumber=abc", headers=auth(admin))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]


def test_list_needs_a_token(client, prefix, app):
    assert client.get(f"{prefix}/users").status_code == 401


def test_picker_list_is_ordered_and_scoped(client, prefix, admin, agent, auth, other_admin):
    body = client.get(f"{prefix}/users/list", headers=auth(agent)).get_json()
    assert [u["id"] for u in body] == sorted([admin.id, agent.id])
    assert set(body[0]) == {"id", "name", "email", "queues"}


def test_picker_list_of_another_company_needs_super(
    client, prefix, admin, superuser, auth, other_admin
):
    url = f"{prefix}/users/list?companyId={other_admin.company_id}"
    resp = client.get(url, headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json()["error"] == "ERR_NO_PERMISSION"
    body = client.get(url, headers=auth(superuser)).get_json()
    assert [u["id"] for u in body] == [other_admin.id]


# -- show -------------------------------------------------------------------------


def test_show_returns_user_with_queues_and_company(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=agent.company)
    agent.queues = [queue]
    db.session.commit()
    body = client.get(f"{prefix}/users/{agent.id}", headers=auth(admin)).get_json()
    assert body["id"] == agent.id and body["email"] == agent.email
    [row] = body["queues"]
    assert {k: row[k] for k in ("id", "name", "color")} == {
        "id": queue.id,
        "name": queue.name,
        "color": queue.color,
    }
    assert (row["UserQueue"]["userId"], row["UserQueue"]["queueId"]) == (agent.id, queue.id)
    assert body["company"] == {"id": agent.company_id, "name": agent.company.name}
    assert "passwordHash" not in body and "tokenVersion" not in body


def test_show_other_company_user_is_404(client, prefix, admin, auth, other_admin):
    resp = client.get(f"{prefix}/users/{other_admin.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_USER_FOUND"}


def test_show_missing_is_404_and_needs_token(client, prefix, admin, auth):
    assert client.get(f"{prefix}/users/999999", headers=auth(admin)).status_code == 404
    assert client.get(f"{prefix}/users/{admin.id}").status_code == 401


# -- create -----------------------------------------------------------------------


def test_admin_creates_user_with_queues_and_it_can_log_in(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    resp = client.post(
        f"{prefix}/users",
        json=_new_user(queueIds=[queue.id], allTicket="enabled"),
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["email"] == "maria@example.com" and body["profile"] == "user"
    assert body["companyId"] == admin.company_id and body["allTicket"] == "enabled"
    assert [q["id"] for q in body["queues"]] == [queue.id]
    login = client.post(
        f"{prefix}/auth/login", json={"email": "maria@example.com", "password": "abcde1"}
    )
    assert login.status_code == 200


def test_create_ignores_company_id_in_body_for_its_own_company(client, prefix, admin, auth):
    resp = client.post(
        f"{prefix}/users", json=_new_user(companyId=admin.company_id), headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["companyId"] == admin.company_id


def test_admin_cannot_create_in_another_company(client, prefix, admin, auth, other_company):
    resp = client.post(
        f"{prefix}/users", json=_new_user(companyId=other_company.id), headers=auth(admin)
    )
    assert resp.status_code == 403
    assert _count_users(other_company.id) == 0


def test_super_creates_in_another_company(client, prefix, superuser, auth, other_company):
    resp = client.post(
        f"{prefix}/users", json=_new_user(companyId=other_company.id), headers=auth(superuser)
    )
    assert resp.status_code == 200 and resp.get_json()["companyId"] == other_company.id


def test_admin_cannot_create_a_super_user(client, prefix, admin, auth):
    resp = client.post(f"{prefix}/users", json=_new_user(super=True), headers=auth(admin))
    assert resp.status_code == 403
    assert db.session.scalar(sa.select(User).where(User.email == "maria@example.com")) is None


def test_create_validation_errors_name_each_field(client, prefix, admin, auth):
    before = _count_users(admin.company_id)
    resp = client.post(
        f"{prefix}/users",
        json={"name": "M", "email": "not-an-email", "password": "123", "profile": "boss"},
        headers=auth(admin),
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert {"name", "email", "password", "profile"} <= set(body["fields"])
    assert _count_users(admin.company_id) == before


def test_create_with_another_companys_queue_is_refused(client, prefix, admin, auth, other_company):
    foreign = factories.QueueFactory(company=other_company)
    resp = client.post(
        f"{prefix}/users", json=_new_user(queueIds=[foreign.id]), headers=auth(admin)
    )
    assert resp.status_code == 400 and "queueIds" in resp.get_json()["fields"]


def test_duplicate_email_is_refused_across_companies(client, prefix, admin, auth, other_admin):
    resp = client.post(
        f"{prefix}/users", json=_new_user(email=other_admin.email.upper()), headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_EMAIL"}


def test_plan_user_limit_refuses_the_third_user(client, prefix, auth):
    plan = factories.PlanFactory(users=2)
    company = factories.CompanyFactory(plan=plan)
    admin = factories.AdminFactory(company=company)
    ok = client.post(f"{prefix}/users", json=_new_user(), headers=auth(admin))
    assert ok.status_code == 200
    third = client.post(
        f"{prefix}/users", json=_new_user(email="third@example.com"), headers=auth(admin)
    )
    assert third.status_code == 400 and third.get_json() == {"error": "ERR_USER_LIMIT_REACHED"}
    assert _count_users(company.id) == 2


def test_agent_cannot_create_users(client, prefix, agent, auth):
    resp = client.post(f"{prefix}/users", json=_new_user(), headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_create_needs_a_token(client, prefix, app):
    assert client.post(f"{prefix}/users", json=_new_user()).status_code == 401


def test_create_emits_user_event_to_own_company_only(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.post(f"{prefix}/users", json=_new_user(), headers=auth(admin))
    events = [e for e in mine.get_received() if e["name"] == f"company-{admin.company_id}-user"]
    assert len(events) == 1
    assert events[0]["args"][0]["action"] == "create"
    assert events[0]["args"][0]["user"]["email"] == "maria@example.com"
    assert not [e for e in theirs.get_received() if e["name"].endswith("-user")]


# -- update -----------------------------------------------------------------------


def test_admin_updates_a_user(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company)
    resp = client.put(
        f"{prefix}/users/{agent.id}",
        json={"name": "Renamed", "profile": "admin", "queueIds": [queue.id], "password": ""},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "Renamed" and body["profile"] == "admin"
    assert [q["id"] for q in body["queues"]] == [queue.id]
    # An empty password leaves the old one working.
    login = client.post(f"{prefix}/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert login.status_code == 200


def test_agent_updates_own_name_and_password(client, prefix, agent, auth):
    resp = client.put(
        f"{prefix}/users/{agent.id}",
        json={
            "name": "Me Myself",
            "password": "brand-new",
            "email": agent.email,
            "profile": "user",
        },
        headers=auth(agent),
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == "Me Myself"
    login = client.post(
        f"{prefix}/auth/login", json={"email": agent.email, "password": "brand-new"}
    )
    assert login.status_code == 200


def test_agent_cannot_promote_self_or_edit_others(client, prefix, agent, admin, auth):
    resp = client.put(f"{prefix}/users/{agent.id}", json={"profile": "admin"}, headers=auth(agent))
    assert resp.status_code == 403
    resp = client.put(f"{prefix}/users/{admin.id}", json={"name": "Hacked"}, headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(User, agent.id).profile == "user"
    assert db.session.get(User, admin.id).name != "Hacked"


def test_update_other_company_user_is_404(client, prefix, admin, auth, other_admin):
    resp = client.put(
        f"{prefix}/users/{other_admin.id}", json={"name": "Nope"}, headers=auth(admin)
    )
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, other_admin.id).name != "Nope"


def test_update_validation_and_duplicate_email(client, prefix, admin, agent, auth):
    resp = client.put(f"{prefix}/users/{agent.id}", json={"email": "bad"}, headers=auth(admin))
    assert resp.status_code == 400 and "email" in resp.get_json()["fields"]
    resp = client.put(f"{prefix}/users/{agent.id}", json={"password": "1"}, headers=auth(admin))
    assert resp.status_code == 400 and "password" in resp.get_json()["fields"]
    resp = client.put(
        f"{prefix}/users/{agent.id}", json={"email": admin.email}, headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_EMAIL"}


def test_last_admin_cannot_demote_self(client, prefix, admin, auth):
    resp = client.put(f"{prefix}/users/{admin.id}", json={"profile": "user"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_LAST_ADMIN"}


def test_update_needs_a_token(client, prefix, agent):
    assert client.put(f"{prefix}/users/{agent.id}", json={"name": "X"}).status_code == 401


# -- delete -----------------------------------------------------------------------


def test_admin_deletes_a_user_and_event_is_emitted(
    client, prefix, admin, agent, auth, socket_client
):
    sock = socket_client(admin)
    sock.get_received()
    resp = client.delete(f"{prefix}/users/{agent.id}", headers=auth(admin))
    assert resp.status_code == 200
    assert db.session.get(User, agent.id) is None
    events = [e for e in sock.get_received() if e["name"] == f"company-{admin.company_id}-user"]
    assert events[-1]["args"][0] == {"action": "delete", "userId": agent.id}


def test_agent_cannot_delete(client, prefix, admin, agent, auth):
    resp = client.delete(f"{prefix}/users/{admin.id}", headers=auth(agent))
    assert resp.status_code == 403
    assert db.session.get(User, admin.id) is not None


def test_delete_other_company_user_is_404(client, prefix, admin, auth, other_admin):
    assert client.delete(f"{prefix}/users/{other_admin.id}", headers=auth(admin)).status_code == 404
    assert db.session.get(User, other_admin.id) is not None


def test_admin_cannot_delete_self_or_a_super(client, prefix, admin, superuser, auth):
    resp = client.delete(f"{prefix}/users/{admin.id}", headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_CANNOT_DELETE_SELF"}
    assert client.delete(f"{prefix}/users/{superuser.id}", headers=auth(admin)).status_code == 403


def test_delete_needs_a_token(client, prefix, agent):
    assert client.delete(f"{prefix}/users/{agent.id}").status_code == 401
