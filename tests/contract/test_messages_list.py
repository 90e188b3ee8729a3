"""Chat view (MessagesList): quoted media, location bubbles and contact cards it can parse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as evolution_stubs
from tests.stubs.evolution import API_KEY
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID, with_messages
from tests.whatsapp.evolution.test_parser import SECRET as EVOLUTION_SECRET
from tests.whatsapp.evolution.test_parser import upsert
from whaticket.extensions import db
from whaticket.models import Message, Ticket
from whaticket.utils.crypto import encrypt_json

#: The stub's pytest fixture, made available to this module.
evolution_stub = evolution_stubs.evolution_stub

CLOUD_SECRET = "app-secret-ml"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
#: A JPEG-looking thumbnail whose base64 is full of "WlpaWlpa" (a term no text contains).
THUMBNAIL = b"\xff\xd8\xff\xe0" + b"Z" * 60 + b"\xff\xd9"
THUMBNAIL_B64 = base64.b64encode(THUMBNAIL).decode()
EVO_KEY = {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "3EB0LOC1"}


# -- what the screen does with a message (src/components/MessagesList/index.js) -----------


def _location_preview(message: dict) -> tuple[str, str, str | None] | None:
    """checkMessageMedia (MessagesList:428): a locationMessage with at least one "|" becomes
    LocationPreview(image = part 0, link = part 1, description = part 2 or null)."""
    if message["mediaType"] != "locationMessage" or len(message["body"].split("|")) < 2:
        return None
    parts = message["body"].split("|")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def _vcard_preview(body: str) -> tuple[str | None, str]:
    """checkMessageMedia (MessagesList:440-460) on a contactMessage: every ":"-separated
    value with a "+" is a number, the value after one containing "FN" the name; it reads
    obj[0].number, so a card without a "+" value throws and blanks the chat."""
    numbers: list[str] = []
    name: str | None = None
    for line in body.split("\n"):
        values = line.split(":")
        for i, value in enumerate(values):
            if "+" in value:
                numbers.append(value)
            if "FN" in value:
                name = values[i + 1] if i + 1 < len(values) else None
    if not numbers:
        raise AssertionError("MessagesList:460 would throw: no value with '+'")
    return name, numbers[0]


def _digits(text: str) -> str:
    """What VCardPreview posts as the number: `numbers.replace(/\\D/g, "")`."""
    return "".join(ch for ch in text if ch.isdigit())


def _path(url: str) -> str:
    """The path and query of a public URL (the test client talks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (counted, not timed)."""
    seen: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record)


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def fake_ticket(company, admin):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    return factories.TicketFactory(company=company, whatsapp=conn, status="open", user_id=admin.id)


@pytest.fixture
def evolution_conn(company, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="CONNECTED",
        is_default=True,
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {
                "baseUrl": evolution_stub.url,
                "apiKey": API_KEY,
                "instance": "inst1",
                "webhookSecret": EVOLUTION_SECRET,
            }
        ),
    )
    db.session.commit()
    return conn


@pytest.fixture
def cloud_conn(company, graph_stub):
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        is_default=True,
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": CLOUD_SECRET,
                "verifyToken": "verify-me",
                "baseUrl": graph_stub.url,
            }
        ),
    )


def _evolution_post(client, prefix, conn, payload: dict) -> None:
    resp = client.post(
        f"{prefix}/webhooks/evolution/{conn.id}/{EVOLUTION_SECRET}",
        data=json.dumps(payload).encode(),
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.get_json()


def _cloud_post(client, prefix, payload: dict) -> None:
    raw = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(CLOUD_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    resp = client.post(
        f"{prefix}/webhooks/cloud",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sig},
    )
    assert resp.status_code == 200, resp.get_json()


def _only_ticket() -> Ticket:
    db.session.expire_all()
    return db.session.scalars(sa.select(Ticket)).one()


def _history(client, prefix, headers, ticket_id: int) -> list[dict]:
    resp = client.get(f"{prefix}/messages/{ticket_id}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["messages"]


# -- M2: quoted media -------------------------------------------------------------------


def test_reply_quoting_an_image_carries_its_media_url(client, prefix, admin, auth, fake_ticket):
    """src/components/MessagesList/index.js:682-714 shows a quoted image/audio/video/document
    from quotedMsg.{mediaType, mediaUrl} (plus quotedMsg.body, fromMe, contact.name)."""
    headers = auth(admin)
    sent = client.post(
        f"{prefix}/messages/{fake_ticket.id}",
        data={"medias": [(io.BytesIO(PNG), "photo.png")], "body": ["a photo"]},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.get_json()
    image = sent.get_json()[0]
    # The SPA posts the whole quoted message object (MessageInputCustom:598).
    reply = client.post(
        f"{prefix}/messages/{fake_ticket.id}",
        json={"body": "see above", "quotedMsg": image, "read": 1, "fromMe": True, "mediaUrl": ""},
        headers=headers,
    )
    assert reply.status_code == 200, reply.get_json()
    rows = {m["id"]: m for m in _history(client, prefix, headers, fake_ticket.id)}
    quoted = rows[reply.get_json()[0]["id"]]["quotedMsg"]
    assert quoted["mediaType"] == "image" and quoted["fromMe"] is True
    assert quoted["mediaUrl"] == image["mediaUrl"] and quoted["mediaName"] == image["mediaName"]
    assert quoted["body"] == "a photo"
    with client.get(_path(quoted["mediaUrl"])) as media:
        assert media.status_code == 200 and media.data == PNG


def test_quoted_text_has_no_media_url(client, prefix, admin, auth, fake_ticket):
    """MessagesList:714 falls back to quotedMsg.body when the quote is not media."""
    original = factories.MessageFactory(ticket=fake_ticket, from_me=False, body="oi")
    factories.MessageFactory(ticket=fake_ticket, from_me=True, quoted_msg_id=original.id)
    rows = _history(client, prefix, auth(admin), fake_ticket.id)
    quoted = rows[-1]["quotedMsg"]
    assert quoted["body"] == "oi" and quoted["mediaUrl"] is None
    assert quoted["contact"]["name"] == fake_ticket.contact.name


def test_quoted_messages_are_loaded_in_one_query(client, prefix, admin, auth, fake_ticket):
    """A page of replies costs the same statements whatever the number of quoted messages
    (quotes older than the page are not loaded one by one)."""
    headers = auth(admin)

    def _page_statements(distinct_quotes: int) -> int:
        ticket = factories.TicketFactory(
            company=fake_ticket.company, whatsapp=fake_ticket.whatsapp, status="open"
        )
        quoted = [
            factories.MessageFactory(
                ticket=ticket,
                media_type="image",
                media_path=f"messages/2026/01/{n}-x.png",
                media_name="x.png",
            )
            for n in range(distinct_quotes)
        ]
        # A full page (20) of replies, newer than every quoted message.
        for n in range(20):
            target = quoted[n % distinct_quotes]
            factories.MessageFactory(ticket=ticket, from_me=True, quoted_msg_id=target.id)
        _history(client, prefix, headers, ticket.id)  # marks the messages read (an UPDATE)
        with _statements() as seen:
            rows = _history(client, prefix, headers, ticket.id)
        assert len(rows) == 20 and all(m["quotedMsg"]["mediaUrl"] for m in rows)
        assert len({m["quotedMsg"]["id"] for m in rows}) == distinct_quotes
        return len(seen)

    assert _page_statements(8) == _page_statements(2)


def test_history_of_another_company_is_404(client, prefix, other_admin, auth, fake_ticket):
    resp = client.get(f"{prefix}/messages/{fake_ticket.id}", headers=auth(other_admin))
    assert resp.status_code == 404


# -- M3: locations ------------------------------------------------------------------------


def _evolution_location(**extra) -> dict:
    location = {"degreesLatitude": -23.5505, "degreesLongitude": -46.6333, **extra}
    return upsert(EVO_KEY, {"locationMessage": location}, "locationMessage")


def test_evolution_location_renders_as_location_preview(
    client, prefix, admin, auth, evolution_conn
):
    """src/components/MessagesList/index.js:428 (LocationPreview: <img src=image>, a
    "Visualizar" button opening link, description via dangerouslySetInnerHTML)."""
    payload = _evolution_location(
        name="Padaria <script>alert(1)</script>",
        address="Rua A & B | 10",
        jpegThumbnail=THUMBNAIL_B64,
    )
    _evolution_post(client, prefix, evolution_conn, payload)
    ticket = _only_ticket()
    (message,) = _history(client, prefix, auth(admin), ticket.id)
    image, link, description = _location_preview(message)
    assert image == f"data:image/png;base64,{THUMBNAIL_B64}"
    assert link == "https://maps.google.com/maps?q=-23.5505%2C-46.6333&z=17&hl=pt-BR"
    # Escaped for innerHTML; a "|" in the text must not split the body.
    assert description == (
        "Padaria &lt;script&gt;alert(1)&lt;/script&gt;<br />Rua A &amp; B &#124; 10"
    )


def test_location_without_thumbnail_shows_a_picture(client, prefix, admin, auth, evolution_conn):
    """LocationPreview always renders <img src={image}>: a location without a thumbnail
    still gets a PNG, and the coordinates as its description."""
    _evolution_post(client, prefix, evolution_conn, _evolution_location())
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    image, link, description = _location_preview(message)
    assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "q=-23.5505%2C-46.6333" in link and description == "-23.5505, -46.6333"


def test_cloud_location_renders_as_location_preview(client, prefix, admin, auth, cloud_conn):
    """MessagesList:428 for a Cloud API location (Meta sends no thumbnail: a drawn map pin)."""
    location = {
        "latitude": 38.9,
        "longitude": -77.03,
        "name": "Philz Coffee",
        "address": "1 Main St",
        "url": "https://philz.example",
    }
    item = {"from": "972987654321", "id": "wamid.LOC1", "timestamp": "1697043223"}
    _cloud_post(client, prefix, with_messages([{**item, "type": "location", "location": location}]))
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    image, link, description = _location_preview(message)
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert link == "https://maps.google.com/maps?q=38.9%2C-77.03&z=17&hl=pt-BR"
    assert description == "Philz Coffee<br />1 Main St"


def test_location_keeps_ticket_list_and_search_readable(
    client, prefix, admin, auth, evolution_conn
):
    """src/components/TicketListItemCustom/index.js:505 and src/pages/Kanban/index.js:97
    show ticket.lastMessage as text; the ticket search looks into message bodies."""
    payload = _evolution_location(name="Padaria Real", jpegThumbnail=THUMBNAIL_B64)
    _evolution_post(client, prefix, evolution_conn, payload)
    headers = auth(admin)
    listed = client.get(f"{prefix}/tickets", query_string={"showAll": "true"}, headers=headers)
    assert listed.status_code == 200
    (row,) = listed.get_json()["tickets"]
    assert row["lastMessage"] == "📍 Padaria Real"

    def _found(term: str) -> int:
        query = {"searchParam": term, "showAll": "true"}
        resp = client.get(f"{prefix}/tickets", query_string=query, headers=headers)
        assert resp.status_code == 200
        return resp.get_json()["count"]

    assert "WlpaWlpa" in THUMBNAIL_B64
    assert _found("wlpawlpa") == 0  # inside the picture's base64 only
    assert _found("padaria") == 1


# -- M12: contact cards the chat view can parse ---------------------------------------------


def _cloud_contacts(contacts: list[dict], msg_id: str = "wamid.VC1") -> dict:
    item = {"from": "972987654321", "id": msg_id, "timestamp": "1697043223", "type": "contacts"}
    return with_messages([{**item, "contacts": contacts}])


def test_cloud_card_without_plus_gets_the_whatsapp_id(client, prefix, admin, auth, cloud_conn):
    """MessagesList:440-460 takes the first value with "+" as the number and the value after
    "FN" as the name; VCardPreview posts its digits to /contacts."""
    card = {
        "name": {"formatted_name": "Ana Souza", "first_name": "Ana"},
        "phones": [{"phone": "(11) 99999-0000", "wa_id": "5511999990000", "type": "CELL"}],
    }
    _cloud_post(client, prefix, _cloud_contacts([card]))
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    assert message["mediaType"] == "contactMessage"
    name, number = _vcard_preview(message["body"])
    assert name == "Ana Souza" and _digits(number) == "5511999990000"


def test_cards_name_and_number_belong_to_one_contact(client, prefix, admin, auth, cloud_conn):
    """The bubble shows one card per message: the first "+" number and the last "FN" name
    must be the same person's, even when a message shares several contacts."""
    cards = [
        {
            "name": {"formatted_name": "Ana"},
            "phones": [{"phone": "+55 11 99999-0000", "wa_id": "5511999990000"}],
        },
        {
            "name": {"formatted_name": "Bruno"},
            "phones": [{"phone": "+55 21 98888-1111", "wa_id": "5521988881111"}],
        },
    ]
    _cloud_post(client, prefix, _cloud_contacts(cards))
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    name, number = _vcard_preview(message["body"])
    assert (name, _digits(number)) == ("Ana", "5511999990000")
    assert "Bruno" in message["body"] and "+55 21 98888-1111" in message["body"]


def test_card_with_no_usable_number_is_plain_text(client, prefix, admin, auth, cloud_conn):
    """A card no "+" number can be found in would throw in MessagesList:460: it is stored
    as a text message instead."""
    card = {"name": {"formatted_name": "Porteiro"}, "phones": [{"phone": "3333-4444"}]}
    _cloud_post(client, prefix, _cloud_contacts([card]))
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    assert message["mediaType"] == "chat" and message["body"] == "📇 Porteiro: 3333-4444"


def test_evolution_card_with_local_number_is_parsable(client, prefix, admin, auth, evolution_conn):
    """MessagesList:440-460 on an Evolution contactMessage saved without the country code."""
    vcard = (
        "BEGIN:VCARD\nVERSION:3.0\nN:;Carla;;;\nFN:Carla\n"
        "item1.TEL;waid=5511977776666:011 97777-6666\nitem1.X-ABLabel:Celular\nEND:VCARD"
    )
    payload = upsert(
        {**EVO_KEY, "id": "3EB0VC1"},
        {"contactMessage": {"displayName": "Carla", "vcard": vcard}},
        "contactMessage",
    )
    _evolution_post(client, prefix, evolution_conn, payload)
    (message,) = _history(client, prefix, auth(admin), _only_ticket().id)
    assert message["mediaType"] == "contactMessage"
    name, number = _vcard_preview(message["body"])
    assert name == "Carla" and _digits(number) == "5511977776666"
    db.session.expire_all()
    assert db.session.scalars(sa.select(Message)).one().media_type == "contactMessage"
