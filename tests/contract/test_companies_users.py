"""Companies screen, "Usuário" button: a super user reads and edits another company's users;
admins and agents stay inside their own company."""

from __future__ import annotations

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import User


@pytest.fixture
def theirs(other_company):
    """Company B's first user (an agent with one of B's queues) and B's queues."""
    queues = [factories.QueueFactory(company=other_company) for _ in range(2)]
    user = factories.UserFactory(company=other_company)
    user.queues = [queues[0]]
    db.session.commit()
    return user, queues


def _modal_body(shown: dict, company_id: int, queue_ids: list[int], **changes) -> dict:
    """What src/components/ModalUsers/index.js PUTs: the fetched user, the form's values,
    the selected company's id and the chosen queue ids."""
    body = {"name": "", "email": "", "password": "", "profile": "user", **shown}
    body.update(changes, companyId=company_id, queueIds=queue_ids)
    return body


def test_super_user_opens_and_saves_another_companys_user(
    client, prefix, superuser, auth, theirs, other_company
):
    """src/components/CompaniesManager/index.js GETs /users/list?companyId=, then
    src/components/ModalUsers/index.js GETs /users/:id (reads queues[].id),
    src/components/QueueSelectCustom/index.js GETs /queue?companyId=, and the modal PUTs
    /users/:id with {...user, companyId, queueIds}."""
    user, queues = theirs
    headers = auth(superuser)
    listed = client.get(
        f"{prefix}/users/list", query_string={"companyId": other_company.id}, headers=headers
    )
    assert listed.status_code == 200
    first = listed.get_json()[0]
    assert first["id"] == user.id
    shown = client.get(f"{prefix}/users/{first['id']}", headers=headers)
    assert shown.status_code == 200, shown.get_json()
    shown = shown.get_json()
    assert shown["companyId"] == other_company.id
    assert [q["id"] for q in shown["queues"]] == [queues[0].id]
    assert shown["queues"][0]["UserQueue"]["queueId"] == queues[0].id
    options = client.get(
        f"{prefix}/queue", query_string={"companyId": other_company.id}, headers=headers
    )
    assert options.status_code == 200
    assert [q["id"] for q in options.get_json()] == [q.id for q in queues]
    resp = client.put(
        f"{prefix}/users/{user.id}",
        json=_modal_body(shown, other_company.id, [q.id for q in queues], name="Renamed"),
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "Renamed" and body["companyId"] == other_company.id
    assert [q["id"] for q in body["queues"]] == [q.id for q in queues]
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert saved.company_id == other_company.id and saved.name == "Renamed"
    assert sorted(q.id for q in saved.queues) == sorted(q.id for q in queues)


def test_super_user_edit_is_announced_to_that_company(
    client, prefix, superuser, auth, theirs, other_admin, socket_client
):
    """src/pages/Users/index.js of company B listens on company-{B}-user: the super
    user's edit reaches B's sockets, not the super user's own company."""
    user, queues = theirs
    mine, b_sock = socket_client(superuser), socket_client(other_admin)
    mine.get_received(), b_sock.get_received()
    resp = client.put(
        f"{prefix}/users/{user.id}", json={"queueIds": [queues[1].id]}, headers=auth(superuser)
    )
    assert resp.status_code == 200, resp.get_json()
    events = [e["args"][0] for e in b_sock.get_received() if e["name"].endswith("-user")]
    assert [e["action"] for e in events] == ["update"]
    assert events[0]["user"]["queues"][0]["UserQueue"]["queueId"] == queues[1].id
    assert not [e for e in mine.get_received() if e["name"].endswith("-user")]


def test_super_user_lists_another_companys_users(
    client, prefix, superuser, auth, theirs, other_company, other_admin
):
    """src/pages/Users/index.js shape ({users, count, hasMore}) for ?companyId= of a super
    user, as the Companies screen's user picker may ask."""
    user, _queues = theirs
    resp = client.get(
        f"{prefix}/users", query_string={"companyId": other_company.id}, headers=auth(superuser)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert {u["id"] for u in body["users"]} == {user.id, other_admin.id}
    assert body["count"] == 2 and body["hasMore"] is False


def test_super_user_queue_ids_must_be_the_users_company(
    client, prefix, superuser, auth, theirs, other_company
):
    """src/components/ModalUsers/index.js sends queueIds picked from the selected company's
    queues: a queue of another company (here the super user's own) is refused."""
    user, _queues = theirs
    own_queue = factories.QueueFactory(company=superuser.company)
    resp = client.put(
        f"{prefix}/users/{user.id}",
        json={"companyId": other_company.id, "queueIds": [own_queue.id]},
        headers=auth(superuser),
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "queueIds" in resp.get_json()["fields"]
    db.session.expire_all()
    assert [q.id for q in db.session.get(User, user.id).queues] == [_queues[0].id]


def test_super_user_cannot_move_a_user_to_another_company(client, prefix, superuser, auth, theirs):
    """src/components/ModalUsers/index.js sends the user's own company id; another one is a
    move between companies, which is refused rather than silently ignored."""
    user, _queues = theirs
    resp = client.put(
        f"{prefix}/users/{user.id}",
        json={"companyId": superuser.company_id, "name": "Moved"},
        headers=auth(superuser),
    )
    assert resp.status_code == 400 and "companyId" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(User, user.id).company_id == user.company_id


def test_super_user_missing_user_is_404(client, prefix, superuser, auth):
    """src/components/ModalUsers/index.js shows err.response.data.error as a toast."""
    resp = client.get(f"{prefix}/users/999999", headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_USER_FOUND"}
    resp = client.put(f"{prefix}/users/999999", json={"name": "Xy"}, headers=auth(superuser))
    assert resp.status_code == 404


def test_super_user_deletes_another_companys_user(
    client, prefix, superuser, auth, theirs, other_admin, socket_client
):
    """src/pages/Users/index.js of company B drops the row on company-{B}-user delete:
    super users operate every company, so deleting B's user works and B hears of it."""
    user, _queues = theirs
    b_sock = socket_client(other_admin)
    b_sock.get_received()
    user_id = user.id
    resp = client.delete(f"{prefix}/users/{user_id}", headers=auth(superuser))
    assert resp.status_code == 200
    events = [e["args"][0] for e in b_sock.get_received() if e["name"].endswith("-user")]
    assert events == [{"action": "delete", "userId": user_id}]
    db.session.expire_all()
    assert db.session.get(User, user_id) is None


# -- tenancy: everyone else stays in their own company ---------------------------


def test_admin_of_another_company_gets_404_on_a_user(
    client, prefix, admin, auth, other_admin, theirs
):
    """src/components/UserModal/index.js GET/PUT /users/:id: an admin of company A asking
    for company B's user gets the same 404 as for a missing one, and nothing changes."""
    user, _queues = theirs
    for target in (user, other_admin):
        resp = client.get(f"{prefix}/users/{target.id}", headers=auth(admin))
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_USER_FOUND"}
        resp = client.put(
            f"{prefix}/users/{target.id}",
            json={"name": "Hijacked", "companyId": target.company_id},
            headers=auth(admin),
        )
        assert resp.status_code == 404
        assert client.delete(f"{prefix}/users/{target.id}", headers=auth(admin)).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, user.id).name != "Hijacked"


def test_admin_company_id_cannot_reach_another_company(
    client, prefix, admin, agent, auth, other_company, theirs
):
    """src/components/QueueSelectCustom and CompaniesManager send companyId: an admin's
    companyId of another company is refused on user lists (403) and ignored on /queue."""
    _user, b_queues = theirs
    mine = factories.QueueFactory(company=admin.company)
    headers = auth(admin)
    params = {"companyId": other_company.id}
    for path in ("/users/list", "/users"):
        resp = client.get(f"{prefix}{path}", query_string=params, headers=headers)
        assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    queues = client.get(f"{prefix}/queue", query_string=params, headers=headers).get_json()
    assert [q["id"] for q in queues] == [mine.id]
    # Naming company B while editing one's own company's user neither moves it nor passes.
    resp = client.put(
        f"{prefix}/users/{agent.id}",
        json={"companyId": other_company.id, "queueIds": [b_queues[0].id]},
        headers=headers,
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    saved = db.session.get(User, agent.id)
    assert saved.company_id == admin.company_id and saved.queues == []


def test_admin_edits_own_company_user_with_own_company_id(client, prefix, admin, agent, auth):
    """src/components/UserModal/index.js PUTs {...user, companyId (own), queueIds}: it
    still works for an admin."""
    queue = factories.QueueFactory(company=admin.company)
    shown = client.get(f"{prefix}/users/{agent.id}", headers=auth(admin)).get_json()
    resp = client.put(
        f"{prefix}/users/{agent.id}",
        json=_modal_body(shown, admin.company_id, [queue.id], name="Kept"),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"] == "Kept"
    assert [q["id"] for q in resp.get_json()["queues"]] == [queue.id]


def test_agent_cannot_reach_another_company(client, prefix, agent, auth, other_company, theirs):
    """An agent's companyId and ids of another company reach nothing."""
    user, _queues = theirs
    assert client.get(f"{prefix}/users/{user.id}", headers=auth(agent)).status_code == 404
    resp = client.get(
        f"{prefix}/users/list", query_string={"companyId": other_company.id}, headers=auth(agent)
    )
    assert resp.status_code == 403
