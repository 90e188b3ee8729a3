"""Quick messages screen: attachments (`/quick-messages/:id/media-upload`) and their use."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import QuickMessage
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.platform import media

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _dialog_body(shortcode: str, message: str, attachment: str | None, **values) -> dict:
    """What src/components/QuickMessageDialog/index.js sends on save: the form values plus
    isMedia (always true) and mediaPath (the attachment's name with "_" for spaces)."""
    body = {"shortcode": shortcode, "message": message, "geral": False, "status": True}
    body.update(values)
    body["isMedia"] = True
    body["mediaPath"] = attachment.replace(" ", "_") if attachment else None
    return body


def _upload(client, prefix, headers, message_id: int, data: bytes = PNG, name: str = "promo.png"):
    """The dialog's FormData: typeArch=quickMessage and the file."""
    return client.post(
        f"{prefix}/quick-messages/{message_id}/media-upload",
        data={"typeArch": "quickMessage", "file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _file_of(message_id: int) -> Path:
    db.session.expire_all()
    row = db.session.get(QuickMessage, message_id)
    assert row.media_path and row.media_path.startswith("quick-messages/")
    return media.absolute_path(row.company_id, row.media_path)


def _local(url: str) -> str:
    """An absolute media URL as a path the test client can request."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    fake.clear_outbox(conn.id)
    return conn


def test_dialog_creates_a_reply_then_attaches_the_file(client, prefix, admin, auth):
    """src/components/QuickMessageDialog/index.js: POST /quick-messages, then POST
    /quick-messages/:id/media-upload (typeArch, file); it shows mediaName and, while
    mediaPath is set, the attachment instead of the "attach" button."""
    body = _dialog_body("promo", "Nossa oferta:", "promo 2024.png")
    resp = client.post(f"{prefix}/quick-messages", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    created = resp.get_json()
    # The file name the SPA sends is only a hint: nothing is attached before the upload.
    assert created["mediaPath"] is None and created["mediaName"] is None

    resp = _upload(client, prefix, auth(admin), created["id"], name="promo 2024.png")
    assert resp.status_code == 200, resp.get_json()
    shown = client.get(f"{prefix}/quick-messages/{created['id']}", headers=auth(admin)).get_json()
    assert shown["mediaName"] == "promo_2024.png"
    assert shown["mediaPath"].startswith(("http://", "https://")) and "sig=" in shown["mediaPath"]
    assert shown["message"] == "Nossa oferta:"
    assert _file_of(created["id"]).read_bytes() == PNG
    # src/pages/QuickMessages/index.js lists mediaName in its table.
    page = client.get(f"{prefix}/quick-messages", headers=auth(admin)).get_json()
    assert page["records"][0]["mediaName"] == "promo_2024.png"


def test_a_reply_may_be_only_an_attachment(client, prefix, agent, auth):
    """src/components/QuickMessageDialog/index.js does not require a message: a reply that
    is only a file is saved when an attachment is announced, refused otherwise."""
    resp = client.post(
        f"{prefix}/quick-messages",
        json=_dialog_body("tabela", "", "precos.pdf"),
        headers=auth(agent),
    )
    assert resp.status_code == 200, resp.get_json()
    message_id = resp.get_json()["id"]
    assert _upload(client, prefix, auth(agent), message_id, PDF, "precos.pdf").status_code == 200
    # Editing it keeps the empty text (the SPA sends the current media's URL as mediaPath).
    shown = client.get(f"{prefix}/quick-messages/{message_id}", headers=auth(agent)).get_json()
    edit = _dialog_body("tabela2", "", None, **{k: shown[k] for k in ("id", "companyId")})
    edit["mediaPath"] = Path(urlsplit(shown["mediaPath"]).path).name
    resp = client.put(f"{prefix}/quick-messages/{message_id}", json=edit, headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["shortcode"] == "tabela2"

    resp = client.post(
        f"{prefix}/quick-messages", json=_dialog_body("vazio", "  ", None), headers=auth(agent)
    )
    assert resp.status_code == 400 and "message" in resp.get_json()["fields"]
    # Once the file is gone an empty text is refused too.
    client.delete(f"{prefix}/quick-messages/{message_id}/media-upload", headers=auth(agent))
    resp = client.put(
        f"{prefix}/quick-messages/{message_id}",
        json=_dialog_body("tabela2", "", None),
        headers=auth(agent),
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    assert "message" in resp.get_json()["fields"]


def test_replacing_and_removing_the_attachment_deletes_the_files(client, prefix, admin, auth):
    """src/components/QuickMessageDialog/index.js: a new upload replaces the file; its
    delete button calls DELETE /quick-messages/:id/media-upload, then mediaPath is null."""
    message_id = factories.QuickMessageFactory(company=admin.company, shortcode="oi").id
    assert _upload(client, prefix, auth(admin), message_id).status_code == 200
    first = _file_of(message_id)
    assert _upload(client, prefix, auth(admin), message_id, PDF, "b.pdf").status_code == 200
    second = _file_of(message_id)
    assert not first.exists() and second.read_bytes() == PDF

    resp = client.delete(f"{prefix}/quick-messages/{message_id}/media-upload", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["mediaPath"] is None and resp.get_json()["mediaName"] is None
    assert not second.exists()
    # Deleting when there is nothing attached is harmless.
    resp = client.delete(f"{prefix}/quick-messages/{message_id}/media-upload", headers=auth(admin))
    assert resp.status_code == 200


def test_deleting_the_reply_or_its_owner_deletes_the_file(client, prefix, admin, agent, auth):
    """Files never outlive their reply: deleting it, or the user owning a personal one."""
    shared = factories.QuickMessageFactory(company=admin.company, shortcode="geral").id
    personal = factories.QuickMessageFactory(
        company=agent.company, user_id=agent.id, shortcode="meu"
    ).id
    for row_id in (shared, personal):
        assert _upload(client, prefix, auth(admin), row_id).status_code == 200
    shared_file, personal_file = _file_of(shared), _file_of(personal)
    resp = client.delete(f"{prefix}/quick-messages/{shared}", headers=auth(admin))
    assert resp.status_code == 200
    assert not shared_file.exists() and personal_file.exists()
    resp = client.delete(f"{prefix}/users/{agent.id}", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert not personal_file.exists()
    db.session.expire_all()
    assert db.session.get(QuickMessage, personal) is None


def test_composer_downloads_the_attachment_and_sends_it(app, client, prefix, admin, auth, conn):
    """src/components/MessageInputCustom/index.js: picking "/shortcode" with a mediaPath
    fetches it with a plain axios GET (no token, no cookie, from the SPA's origin), then
    POSTs /messages/:ticketId with the blob as `medias` and the reply's text as `body`."""
    record = factories.QuickMessageFactory(
        company=admin.company, shortcode="promo", message="Confira!"
    )
    assert _upload(client, prefix, auth(admin), record.id).status_code == 200
    picker = client.get(f"{prefix}/quick-messages/list", headers=auth(admin)).get_json()
    url = next(m for m in picker if m["id"] == record.id)["mediaPath"]

    origin = app.config["FRONTEND_URL"].split(",")[0].strip()
    with client.get(_local(url), headers={"Origin": origin}) as served:
        assert served.status_code == 200 and served.data == PNG
        assert served.mimetype == "image/png"
        assert served.headers["Access-Control-Allow-Origin"] == origin
    ticket = factories.TicketFactory(
        company=admin.company, whatsapp=conn, status="open", user_id=admin.id
    )
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        data={
            "medias": (io.BytesIO(PNG), "1717689097000.png"),
            "body": "Confira!",
            "fromMe": "true",
        },
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    sent = [e for e in fake.read_outbox(conn.id) if e["type"] == "image"]
    assert len(sent) == 1 and sent[0]["body"] == "Confira!"
    # A tampered signature serves nothing.
    assert client.get(_local(url).replace("sig=", "sig=0")).status_code == 404


def test_upload_limits(app, client, prefix, admin, auth):
    """The upload limits of every media endpoint apply (type, size, a file at all)."""
    message_id = factories.QuickMessageFactory(company=admin.company, shortcode="oi").id
    resp = _upload(client, prefix, auth(admin), message_id, b"MZ\x90\x00binary", "x.exe")
    assert resp.status_code == 415 and resp.get_json()["error"] == "ERR_UNSUPPORTED_MEDIA_TYPE"
    app.config["MEDIA_MAX_BYTES"] = 16
    resp = _upload(client, prefix, auth(admin), message_id)
    assert resp.status_code == 413 and resp.get_json()["error"] == "ERR_FILE_TOO_LARGE"
    resp = client.post(
        f"{prefix}/quick-messages/{message_id}/media-upload",
        data={"typeArch": "quickMessage"},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(QuickMessage, message_id).media_path is None


def test_roles_and_tenancy(client, prefix, admin, agent, other_admin, auth):
    """Attachments follow the reply's rules: company-wide ones are changed by admins,
    personal ones by their owner (or an admin); another agent's or company's is 404."""
    shared = factories.QuickMessageFactory(company=admin.company, shortcode="geral").id
    own = factories.QuickMessageFactory(company=agent.company, user_id=agent.id, shortcode="m").id
    colleague = factories.UserFactory(company=agent.company)
    theirs = factories.QuickMessageFactory(
        company=agent.company, user_id=colleague.id, shortcode="c"
    ).id
    base = f"{prefix}/quick-messages"

    resp = _upload(client, prefix, auth(agent), shared)
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert client.delete(f"{base}/{shared}/media-upload", headers=auth(agent)).status_code == 403
    assert _upload(client, prefix, auth(agent), own).status_code == 200
    assert _upload(client, prefix, auth(agent), theirs).status_code == 404
    assert _upload(client, prefix, auth(admin), theirs).status_code == 200
    for target in (shared, own):
        resp = _upload(client, prefix, auth(other_admin), target)
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_QUICKMESSAGE_FOUND"}
        resp = client.delete(f"{base}/{target}/media-upload", headers=auth(other_admin))
        assert resp.status_code == 404
    assert client.post(f"{base}/{own}/media-upload").status_code == 401
    assert client.delete(f"{base}/{own}/media-upload").status_code == 401
    db.session.expire_all()
    assert db.session.get(QuickMessage, shared).media_path is None
    assert _file_of(own).exists()


def test_upload_event_reaches_who_sees_the_reply(client, prefix, admin, agent, auth, socket_client):
    """src/pages/QuickMessages/index.js updates its rows from company{cid}-quickemessage:
    the event after an upload carries the new mediaPath and mediaName."""
    message_id = factories.QuickMessageFactory(
        company=agent.company, user_id=agent.id, shortcode="meu"
    ).id
    mine, peer = socket_client(agent), socket_client(factories.UserFactory(company=agent.company))
    mine.get_received(), peer.get_received()
    assert _upload(client, prefix, auth(agent), message_id).status_code == 200
    name = f"company{agent.company_id}-quickemessage"
    events = [e["args"][0] for e in mine.get_received() if e["name"] == name]
    assert [e["action"] for e in events] == ["update"]
    assert events[0]["record"]["mediaName"] == "promo.png" and events[0]["record"]["mediaPath"]
    assert not [e for e in peer.get_received() if e["name"] == name]
