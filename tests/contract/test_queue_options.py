"""Queue modal's chatbot options (`src/components/QueueOptions`): numbers as option keys."""

from __future__ import annotations

import pytest

from tests import factories
from tests.services.bots.test_chatbot import Chat
from whaticket.extensions import db
from whaticket.models import QueueOption

#: The keys the stepper reads from each row of GET /queue-options.
ROW_KEYS = {"id", "queueId", "parentId", "title", "message", "option", "mediaPath", "mediaName"}


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        greeting_message="Olá! Escolha um setor:",
    )


@pytest.fixture
def queue(company, conn):
    made = factories.QueueFactory(company=company, name="Financeiro", greeting_message="Oi.")
    conn.queues.append(made)
    db.session.commit()
    return made


def _new_row(queue_id: int, option: int, parent_id: int | None = None, **over) -> dict:
    """A row as the stepper builds it (addOption / handleAddOption), then saved as edited."""
    return {
        "title": "",
        "message": "",
        "edition": True,
        "option": option,
        "queueId": queue_id,
        "parentId": parent_id,
        "children": [],
        **over,
    }


def _post(client, prefix, auth, user, row: dict):
    return client.post(f"{prefix}/queue-options", json=row, headers=auth(user))


def _list(client, prefix, auth, user, queue_id: int, parent_id: int) -> list[dict]:
    resp = client.get(
        f"{prefix}/queue-options",
        query_string={"queueId": queue_id, "parentId": parent_id},
        headers=auth(user),
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_numbered_rows_are_created_listed_and_saved_back(client, prefix, auth, admin, queue):
    """src/components/QueueOptions/index.js POSTs {option: 1, queueId, parentId, title, message,
    edition, children}, keeps data.id, lists with parentId -1 (roots) or the parent's id,
    and PUTs the whole row back (children and edition included)."""
    resp = _post(client, prefix, auth, admin, _new_row(queue.id, 1, title="Boletos"))
    assert resp.status_code == 200, resp.get_json()
    root = resp.get_json()
    assert root["option"] == "1" and isinstance(root["id"], int)
    resp = _post(client, prefix, auth, admin, _new_row(queue.id, 2, title="Atendente"))
    assert resp.status_code == 200 and resp.get_json()["option"] == "2"
    resp = _post(
        client, prefix, auth, admin, _new_row(queue.id, 1, root["id"], title="Segunda via")
    )
    assert resp.status_code == 200 and resp.get_json()["parentId"] == root["id"]

    roots = _list(client, prefix, auth, admin, queue.id, -1)
    assert [(r["option"], r["title"]) for r in roots] == [("1", "Boletos"), ("2", "Atendente")]
    assert all(set(row) >= ROW_KEYS for row in roots)
    assert roots[0]["mediaPath"] is None and roots[0]["parentId"] is None
    [child] = _list(client, prefix, auth, admin, queue.id, root["id"])
    assert (child["option"], child["title"]) == ("1", "Segunda via")

    # Saved back as the stepper holds it: its children (with their own rows) and flags.
    row = {**roots[0], "children": [{**child, "children": []}], "edition": True}
    row["message"] = "Boletos: o que precisa?"
    resp = client.put(f"{prefix}/queue-options/{root['id']}", json=row, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["message"] == "Boletos: o que precisa?"
    assert resp.get_json()["option"] == "1"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(3, "3"), (3.0, "3"), ("3", "3"), (" 03 ", "3"), (12, "12"), ("A", "A"), (" sim ", "sim")],
)
def test_numbers_and_numeric_strings_become_plain_digits(
    client, prefix, auth, admin, queue, sent, stored
):
    """The key the menu shows ("*[ 3 ]*") is what the customer types, so "03" is "3"."""
    resp = _post(client, prefix, auth, admin, _new_row(queue.id, sent, title="T"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["option"] == stored
    assert db.session.get(QueueOption, resp.get_json()["id"]).option == stored


@pytest.mark.parametrize("sent", [0, "0", "00", "#", 1.5, True, None, "", " ", "x" * 21, [1]])
def test_bad_keys_are_400_on_option(client, prefix, auth, admin, queue, sent):
    """0 and # are the bot's "back" and "main menu"; fractions, booleans and blanks are no key."""
    resp = _post(client, prefix, auth, admin, _new_row(queue.id, sent, title="T"))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "option" in resp.get_json()["fields"]
    assert db.session.query(QueueOption).count() == 0


def test_a_number_and_its_text_are_the_same_key(client, prefix, auth, admin, queue):
    """Siblings may not share a key, whichever way the key was sent."""
    assert _post(client, prefix, auth, admin, _new_row(queue.id, 1, title="A")).status_code == 200
    resp = _post(client, prefix, auth, admin, _new_row(queue.id, "01", title="B"))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_OPTION"


def test_deleting_renumbers_so_the_screens_parallel_puts_cannot_collide(
    client, prefix, auth, admin, queue
):
    """src/components/QueueOptions/index.js deletes a row, then PUTs every remaining sibling
    with option = position + 1 without waiting for each other: in any order they succeed."""
    ids = [
        _post(client, prefix, auth, admin, _new_row(queue.id, n, title=f"T{n}")).get_json()["id"]
        for n in (1, 2, 3, 4)
    ]
    assert client.delete(f"{prefix}/queue-options/{ids[0]}", headers=auth(admin)).status_code == 200
    rows = _list(client, prefix, auth, admin, queue.id, -1)
    assert [(r["id"], r["option"]) for r in rows] == [(ids[1], "1"), (ids[2], "2"), (ids[3], "3")]
    # The renumbering PUTs, arriving last first.
    for order, row in reversed(list(enumerate(rows))):
        resp = client.put(
            f"{prefix}/queue-options/{row['id']}",
            json={**row, "option": order + 1, "children": []},
            headers=auth(admin),
        )
        assert resp.status_code == 200, resp.get_json()
    rows = _list(client, prefix, auth, admin, queue.id, -1)
    assert [r["option"] for r in rows] == ["1", "2", "3"]


def test_text_keys_are_not_renumbered(client, prefix, auth, admin, queue):
    """Only an all-numbered menu is renumbered; an admin's letters stay as typed."""
    ids = [
        _post(client, prefix, auth, admin, _new_row(queue.id, key, title=key)).get_json()["id"]
        for key in ("1", "B", "3")
    ]
    client.delete(f"{prefix}/queue-options/{ids[0]}", headers=auth(admin))
    rows = _list(client, prefix, auth, admin, queue.id, -1)
    assert sorted(r["option"] for r in rows) == ["3", "B"]


def test_the_chatbot_matches_what_the_customer_types(
    client, prefix, auth, admin, company, conn, queue
):
    """Options made from the screen's numbers are chosen by typing those numbers."""
    root = _post(
        client, prefix, auth, admin, _new_row(queue.id, 1, title="Boletos", message="Qual?")
    ).get_json()
    _post(client, prefix, auth, admin, _new_row(queue.id, 2, title="Atendente"))
    _post(
        client,
        prefix,
        auth,
        admin,
        _new_row(queue.id, 1, root["id"], title="Segunda via", message="Envie seu CPF."),
    )
    chat = Chat(company, conn)
    [menu] = chat.texts("Oi")
    assert "*[ 1 ]* - Boletos\n*[ 2 ]* - Atendente" in menu
    [node] = chat.texts("1")
    assert node.startswith("Qual?") and "*[ 1 ]* - Segunda via" in node
    assert chat.texts("1") == ["Envie seu CPF."]
