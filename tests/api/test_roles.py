"""The write-route role table (`whaticket/api/roles.py`): every write route is in it, every
entry is a route, the hook refuses each role below the table's, and the admin operations
agents used to reach (file lists, contact lists, campaigns) are admins' again."""

from __future__ import annotations

import pytest

from tests import factories
from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers
from whaticket.api import roles
from whaticket.extensions import db
from whaticket.models import Campaign, ContactList, FileList
from whaticket.services.connections import fake_whatsapp as fake

NO_PERMISSION = {"error": "ERR_NO_PERMISSION"}


def _write_routes(app) -> dict[str, tuple[str, str]]:
    """endpoint -> (a write method, a URL of it) for every write route of the app."""
    adapter = app.url_map.bind("localhost")
    routes: dict[str, tuple[str, str]] = {}
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) & roles.WRITE_METHODS)
        if methods and rule.endpoint not in routes:
            # 1 fits every converter our routes use (int, string, path).
            url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1), method=methods[0])
            routes[rule.endpoint] = (methods[0], url)
    return routes


def _call(client, method: str, url: str, headers: dict | None = None):
    return client.open(url, method=method, headers=headers or {}, json={})


def _entries(*wanted: str) -> list[str]:
    return sorted(e for e, role in roles.ROLES.items() if role in wanted)


# -- the table and the URL map -----------------------------------------------------


def test_every_write_route_is_in_the_table_and_every_entry_is_a_route(app):
    routes = _write_routes(app)
    missing = sorted(set(routes) - set(roles.ROLES))
    assert missing == [], f"write routes with no role in whaticket/api/roles.py: {missing}"
    stale = sorted(set(roles.ROLES) - set(routes))
    assert stale == [], f"roles.py entries with no write route: {stale}"
    assert set(roles.ROLES.values()) <= {
        roles.PUBLIC,
        roles.USER,
        roles.ADMIN,
        roles.SUPER,
        roles.TOKEN,
    }


def test_no_view_decorator_is_stricter_than_the_table(app):
    # The table is the truth: a decorator demanding more would make it lie.
    # A token route's view carries a scope, not a role (tests/api/v1/test_scopes.py).
    rank = {None: 0, "public": 0, "token": 0, "user": 1, "admin": 2, "super": 3}
    stricter = sorted(
        f"{endpoint}: table {roles.ROLES[endpoint]}, decorator {role}"
        for endpoint in _write_routes(app)
        if rank[role := getattr(app.view_functions[endpoint], "required_role", None)]
        > rank[roles.ROLES[endpoint]]
    )
    assert stricter == []


# -- the hook, route by route ------------------------------------------------------


def test_every_signed_in_write_route_wants_a_token(app, client):
    # The public API's routes want an API token: a missing one is ERR_INVALID_TOKEN (so
    # many from one address that the guessing limit is raised for the test).
    app.config["EXTERNAL_API_MAX_FAILURES_PER_IP"] = 1000
    expected = {roles.TOKEN: "ERR_INVALID_TOKEN"}
    for endpoint, (method, url) in sorted(_write_routes(app).items()):
        role = roles.ROLES[endpoint]
        if role == roles.PUBLIC:
            continue
        resp = _call(client, method, url)
        assert (resp.status_code, resp.get_json()) == (
            401,
            {"error": expected.get(role, "ERR_SESSION_EXPIRED")},
        ), endpoint


def test_agents_are_refused_every_admin_and_super_write_route(app, client, auth, agent):
    routes = _write_routes(app)
    headers = auth(agent)
    for endpoint in _entries(roles.ADMIN, roles.SUPER):
        method, url = routes[endpoint]
        resp = _call(client, method, url, headers)
        assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION), endpoint


def test_admins_are_refused_every_super_write_route(app, client, auth, admin):
    routes = _write_routes(app)
    headers = auth(admin)
    for endpoint in _entries(roles.SUPER):
        method, url = routes[endpoint]
        resp = _call(client, method, url, headers)
        assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION), endpoint


def test_a_write_route_missing_from_the_table_is_closed(client, prefix, auth, admin, monkeypatch):
    monkeypatch.delitem(roles.ROLES, "file_lists.create_file_list")
    resp = client.post(f"{prefix}/files", json={"name": "Menu"}, headers=auth(admin))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)
    assert db.session.query(FileList).count() == 0


def test_a_token_route_whose_view_checks_no_scope_is_closed(
    client, prefix, auth, admin, monkeypatch
):
    # "token" defers to the view's token_scope: a view without one is refused, not open.
    monkeypatch.setitem(roles.ROLES, "tags.create_tag", roles.TOKEN)
    resp = client.post(f"{prefix}/tags", json={"name": "VIP"}, headers=auth(admin))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)


def test_the_table_alone_protects_a_view_with_no_decorator(client, prefix, monkeypatch):
    # Sign-up carries no auth decorator: named "user" in the table, it wants a token.
    monkeypatch.setitem(roles.ROLES, "companies.signup", roles.USER)
    resp = client.post(f"{prefix}/companies/cadastro", json={})
    assert (resp.status_code, resp.get_json()) == (401, {"error": "ERR_SESSION_EXPIRED"})


# -- the four admin operations agents could run ------------------------------------


@pytest.fixture
def campaign_setup(app, company):
    app.config["CAMPAIGN_CLOCK"] = FakeClock()
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn, make_list(company, numbers(2))


def _file_list(company) -> FileList:
    record = FileList(company_id=company.id, name="Catalogue", message="See below")
    db.session.add(record)
    db.session.commit()
    return record


def test_only_admins_delete_all_file_lists(client, prefix, auth, admin, agent, company):
    _file_list(company)
    resp = client.delete(f"{prefix}/files", headers=auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)
    assert db.session.query(FileList).count() == 1
    assert client.delete(f"{prefix}/files", headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert db.session.query(FileList).count() == 0


def test_only_admins_delete_a_contact_list(client, prefix, auth, admin, agent, company):
    contact_list = make_list(company, numbers(1))
    url = f"{prefix}/contact-lists/{contact_list.id}"
    resp = client.delete(url, headers=auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)
    assert db.session.get(ContactList, contact_list.id) is not None
    assert client.delete(url, headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ContactList, contact_list.id) is None


def test_only_admins_create_and_restart_campaigns(
    client, prefix, auth, admin, agent, campaign_setup
):
    conn, contact_list = campaign_setup
    body = {
        "name": "Natal",
        "contactListId": contact_list.id,
        "whatsappId": conn.id,
        "message1": "Feliz Natal, {nome}!",
    }
    resp = client.post(f"{prefix}/campaigns", json=body, headers=auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)
    assert db.session.query(Campaign).count() == 0

    resp = client.post(f"{prefix}/campaigns", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    restart = f"{prefix}/campaigns/{resp.get_json()['id']}/restart"

    resp = client.post(restart, headers=auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, NO_PERMISSION)
    assert fake.read_outbox(conn.id) == []

    assert client.post(restart, headers=auth(admin)).status_code == 204
    assert len([e for e in fake.read_outbox(conn.id) if e["type"] == "text"]) == 2


def test_agents_keep_their_own_write_routes(client, prefix, auth, agent, company):
    # The screens an agent has (tickets, contacts, tags, quick messages, chat) still work.
    resp = client.post(
        f"{prefix}/quick-messages", json={"shortcode": "oi", "message": "Olá!"}, headers=auth(agent)
    )
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(f"{prefix}/tags", json={"name": "VIP"}, headers=auth(agent))
    assert resp.status_code == 200, resp.get_json()
