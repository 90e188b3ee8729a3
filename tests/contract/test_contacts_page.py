"""Contacts screen: a spreadsheet upload announces its new contacts the way the page's
`company-{cid}-contact` listener reads them (`data.contact`), so colleagues' pages stay up."""

from __future__ import annotations

import io

from whaticket.services.contacts import uploads as contact_uploads

CSV = "nome;numero;email\nAna;11 98888-0001;ana@example.com\nBia;11 98888-0002;\n"


def _upload(client, prefix, headers, text: str):
    """What handleimportContact (src/pages/Contacts/index.js:218) sends: multipart `file`."""
    return client.post(
        f"{prefix}/contacts/upload",
        data={"file": (io.BytesIO(text.encode()), "contatos.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )


def _page(rows: list[dict], events: list[dict]) -> list[dict]:
    """src/pages/Contacts/index.js:144-151 and its reducer (UPDATE_CONTACTS reads
    `contact.id`, DELETE_CONTACT `+data.contactId`); a missing contact throws (white page)."""
    for data in events:
        if data["action"] in ("update", "create"):
            contact = data["contact"]  # KeyError here is the white page
            index = next((i for i, c in enumerate(rows) if c["id"] == contact["id"]), None)
            if index is None:
                rows = [contact, *rows]
            else:
                rows[index] = contact
        if data["action"] == "delete":
            rows = [c for c in rows if c["id"] != int(data["contactId"])]
    return rows


def _heard(sock, company_id: int) -> list[dict]:
    name = f"company-{company_id}-contact"
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def test_colleagues_page_upserts_each_uploaded_contact(
    client, prefix, admin, agent, auth, other_admin, socket_client
):
    """src/pages/Contacts/index.js:146 dispatches UPDATE_CONTACTS with data.contact for
    create/update: each new contact arrives as its own row, with the list row's keys."""
    colleague, stranger = socket_client(agent), socket_client(other_admin)
    colleague.get_received(), stranger.get_received()
    resp = _upload(client, prefix, auth(admin), CSV)
    assert resp.status_code == 200, resp.get_json()
    events = _heard(colleague, admin.company_id)
    assert [e["action"] for e in events] == ["create", "create"]
    rows = _page([], events)
    assert sorted(r["name"] for r in rows) == ["Ana", "Bia"]
    for row in rows:
        assert {"id", "name", "number", "email", "profilePicUrl"} <= set(row)
    # The rows are the ones GET /contacts/ lists.
    listed = client.get(f"{prefix}/contacts/", headers=auth(agent)).get_json()["contacts"]
    assert {r["id"] for r in rows} == {c["id"] for c in listed}
    assert not [e for e in stranger.get_received() if e["name"].endswith("-contact")]


def test_a_big_upload_sends_one_event_the_page_ignores(
    client, prefix, admin, agent, auth, socket_client, monkeypatch
):
    """Past UPLOAD_EVENTS_MAX new contacts, one `reload` event: neither the Contacts page
    (create/update/delete only) nor TicketsListCustom / Ticket (update only) act on it,
    and no socket gets thousands of frames."""
    monkeypatch.setattr(contact_uploads, "UPLOAD_EVENTS_MAX", 1)
    colleague = socket_client(agent)
    colleague.get_received()
    assert _upload(client, prefix, auth(admin), CSV).status_code == 200
    events = _heard(colleague, admin.company_id)
    assert events == [{"action": "reload", "count": 2}]
    before = [{"id": 1, "name": "Já listado"}]
    assert _page(list(before), events) == before


def test_an_upload_of_known_numbers_is_silent(client, prefix, admin, agent, auth, socket_client):
    """Nothing new, nothing sent (the rows on colleagues' pages are still right)."""
    assert _upload(client, prefix, auth(admin), CSV).status_code == 200
    colleague = socket_client(agent)
    colleague.get_received()
    resp = _upload(client, prefix, auth(admin), CSV)
    assert resp.get_json()["existing"] == 2
    assert _heard(colleague, admin.company_id) == []
