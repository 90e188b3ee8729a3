"""Frames built at the commit (emit_later): the state the transaction leaves, or nothing."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Queue
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit_later


def _probes(sock) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == "probe"]


def _queue_frame(queue: Queue, room: str):
    """A builder that reads the queue when called: what the commit sees."""
    return lambda: ({"name": queue.name}, [room])


def test_the_frame_shows_the_state_at_commit(socket_client, admin, company):
    sock = socket_client(admin)
    sock.get_received()
    queue = factories.QueueFactory(company=company, name="Antes")
    emit_later("probe", _queue_frame(queue, rooms.mainchannel(company.id)))
    queue.name = "Depois"  # changed after the emit was registered
    assert _probes(sock) == []  # nothing before the commit
    dbmod.commit()
    assert _probes(sock) == [{"name": "Depois"}]


def test_the_rooms_are_those_of_the_state_at_commit(socket_client, admin, agent, company):
    mine, theirs = socket_client(admin), socket_client(agent)
    mine.get_received(), theirs.get_received()
    target = {"user": admin.id}

    emit_later("probe", lambda: ({"n": 1}, [rooms.user_room(target["user"])]))
    target["user"] = agent.id
    dbmod.commit()
    assert _probes(mine) == [] and _probes(theirs) == [{"n": 1}]


def test_rollback_builds_and_sends_nothing(socket_client, admin, company):
    sock = socket_client(admin)
    sock.get_received()
    built = []
    emit_later("probe", lambda: built.append(1) or ({"n": 1}, [rooms.mainchannel(company.id)]))
    dbmod.rollback()
    dbmod.commit()  # a later commit must not resurrect the dropped frame
    assert built == [] and _probes(sock) == []


def test_a_rolled_back_savepoint_drops_its_frames_only(socket_client, admin, company):
    sock = socket_client(admin)
    sock.get_received()
    room = rooms.mainchannel(company.id)
    emit_later("probe", lambda: ({"n": 1}, [room]))
    mark = dbmod.pending_side_effects()
    built = []
    emit_later("probe", lambda: built.append(2) or ({"n": 2}, [room]))
    dbmod.drop_side_effects_after(mark)
    dbmod.commit()
    assert built == [] and _probes(sock) == [{"n": 1}]


def test_a_builder_that_fails_drops_its_frame_not_the_commit(socket_client, admin, company, caplog):
    sock = socket_client(admin)
    sock.get_received()
    room = rooms.mainchannel(company.id)
    queue = Queue(company_id=company.id, name="Kept", color="#123456")
    db.session.add(queue)
    emit_later("probe", lambda: ({"n": 1 / 0}, [room]))
    emit_later("probe", lambda: ({"n": 2}, [room]))
    with caplog.at_level(logging.ERROR):
        dbmod.commit()
    assert _probes(sock) == [{"n": 2}]
    assert "deferred socket frame" in caplog.text
    db.session.expire_all()
    assert db.session.scalar(sa.select(Queue.name).where(Queue.color == "#123456")) == "Kept"


def test_a_builder_answering_none_sends_nothing(socket_client, admin):
    sock = socket_client(admin)
    sock.get_received()
    emit_later("probe", lambda: None)
    dbmod.commit()
    assert _probes(sock) == []
