"""One person, whatever WhatsApp calls them: LID and phone deliveries through the real
Evolution and Cloud webhook endpoints end in one contact and one ticket."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as stubs
from tests.stubs.evolution import API_KEY
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID, TEXT_DELIVERY
from tests.whatsapp.evolution.test_parser import SECRET, upsert
from whaticket.extensions import db
from whaticket.models import Contact, ContactIdentity, ContactMerge, Message, Ticket
from whaticket.utils.crypto import encrypt_json

evolution_stub = stubs.evolution_stub
CLOUD_SECRET = "app-secret-ids"
PHONE, LID = "5511988887777", "99887766554433"


@pytest.fixture
def evo(company, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company, provider="evolution", status="CONNECTED", provider_account_id="inst1",
        provider_config=encrypt_json({"baseUrl": evolution_stub.url, "apiKey": API_KEY,
                                      "instance": "inst1", "webhookSecret": SECRET}),
    )  # fmt: skip
    db.session.commit()
    return conn


@pytest.fixture
def cloud(company, graph_stub):
    conn = factories.WhatsappFactory(
        company=company, provider="cloud", status="CONNECTED", provider_account_id=PNID,
        provider_config=encrypt_json({"phoneNumberId": PNID, "accessToken": TOKEN,
                                      "appSecret": CLOUD_SECRET, "verifyToken": "v",
                                      "baseUrl": graph_stub.url}),
    )  # fmt: skip
    db.session.commit()
    return conn


def _evo(client, prefix, conn_id, key: dict, text: str):
    payload = upsert({"fromMe": False, **key}, {"conversation": text}, "conversation")
    resp = client.post(
        f"{prefix}/webhooks/evolution/{conn_id}/{SECRET}",
        data=json.dumps(payload).encode(),
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.get_json()


def _cloud(client, prefix, msg_id: str, sender: str | None, contact: dict):
    payload = copy.deepcopy(TEXT_DELIVERY)
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = [contact]
    message = {"id": msg_id, "timestamp": "1697043223", "type": "text", "text": {"body": msg_id}}
    value["messages"] = [{**message, **({"from": sender} if sender else {})}]
    raw = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(CLOUD_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    resp = client.post(
        f"{prefix}/webhooks/cloud", data=raw, content_type="application/json",
        headers={"X-Hub-Signature-256": sig},
    )  # fmt: skip
    assert resp.status_code == 200, resp.get_json()


def _rows(model) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model).order_by(model.id)))


def test_evolution_lid_first_then_phone_ends_in_one_contact_and_ticket(client, prefix, evo):
    # 1. A LID alone (issue #1872): the only id there is, a placeholder contact.
    _evo(client, prefix, evo.id, {"remoteJid": f"{LID}@lid", "id": "E1"}, "oi")
    (placeholder,) = _rows(Contact)
    assert placeholder.number == LID
    # 2. The same person by LID with the phone beside it (Evolution 2.3.6 remoteJidAlt).
    _evo(client, prefix, evo.id, {"remoteJid": f"{LID}@lid", "id": "E2",
                                  "remoteJidAlt": f"{PHONE}@s.whatsapp.net"}, "dois")  # fmt: skip
    # 3. By phone only, then 4. by LID only again, and 5. the 12-digit form (no ninth digit).
    _evo(client, prefix, evo.id, {"remoteJid": f"{PHONE}@s.whatsapp.net", "id": "E3"}, "três")
    _evo(client, prefix, evo.id, {"remoteJid": f"{LID}@lid", "id": "E4"}, "quatro")
    _evo(client, prefix, evo.id, {"remoteJid": "551188887777@s.whatsapp.net", "id": "E5"}, "5")
    (contact,) = _rows(Contact)
    assert contact.number == PHONE  # the placeholder learnt its phone
    (ticket,) = _rows(Ticket)
    assert ticket.contact_id == contact.id
    assert [m.provider_id for m in _rows(Message)] == ["E1", "E2", "E3", "E4", "E5"]
    assert {m.ticket_id for m in _rows(Message)} == {ticket.id}
    ids = {(i.kind, i.value, i.contact_id) for i in _rows(ContactIdentity)}
    assert ids == {("lid", LID, contact.id), ("phone", PHONE, contact.id)}


def test_evolution_phone_contact_absorbs_a_lid_placeholder(client, prefix, evo, company):
    """A contact known by phone and a placeholder known by LID meet in one delivery: the
    placeholder is merged in (journaled, so an admin can undo it), one ticket remains."""
    _evo(client, prefix, evo.id, {"remoteJid": f"{PHONE}@s.whatsapp.net", "id": "P1"}, "a")
    _evo(client, prefix, evo.id, {"remoteJid": f"{LID}@lid", "id": "L1"}, "b")
    assert len(_rows(Contact)) == 2 and len(_rows(Ticket)) == 2
    _evo(client, prefix, evo.id, {"remoteJid": f"{PHONE}@s.whatsapp.net", "id": "B1",
                                  "remoteJidAlt": f"{LID}@lid"}, "c")  # fmt: skip
    (contact,) = _rows(Contact)
    (ticket,) = _rows(Ticket)
    assert contact.number == PHONE and ticket.contact_id == contact.id
    assert [m.provider_id for m in _rows(Message)] == ["P1", "L1", "B1"]
    (merge,) = _rows(ContactMerge)
    assert merge.reason == "inbound" and merge.contact_id == contact.id


def test_cloud_wa_id_and_bsuid_deliveries_end_in_one_contact_and_ticket(client, prefix, cloud):
    bsuid = "BR.13491208655302741918"
    # A Brazilian wa_id comes without the ninth digit; the contact's number is canonical.
    _cloud(client, prefix, "wamid.1", "551188887777",
           {"profile": {"name": "Rita"}, "wa_id": "551188887777", "user_id": bsuid})  # fmt: skip
    # A username user's delivery: no phone at all, only the business-scoped user id.
    _cloud(client, prefix, "wamid.2", None, {"profile": {"name": "Rita"}, "user_id": bsuid})
    _cloud(client, prefix, "wamid.3", bsuid, {"profile": {"name": "Rita"}, "user_id": bsuid})
    (contact,) = _rows(Contact)
    assert contact.number == PHONE and contact.name == "Rita"
    (ticket,) = _rows(Ticket)
    assert [m.provider_id for m in _rows(Message)] == ["wamid.1", "wamid.2", "wamid.3"]
    assert {m.ticket_id for m in _rows(Message)} == {ticket.id}
    kinds = {(i.kind, i.value) for i in _rows(ContactIdentity)}
    assert kinds == {("phone", PHONE), ("wa_id", "551188887777"), ("bsuid", bsuid)}
