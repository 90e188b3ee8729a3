"""factory_boy factories for the models."""

from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import (
    Company,
    Contact,
    Message,
    Plan,
    Queue,
    QuickMessage,
    Setting,
    Tag,
    Ticket,
    TicketNote,
    User,
    Whatsapp,
)
from whaticket.security import hash_password

PASSWORD = "secret123"


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class PlanFactory(_Base):
    class Meta:
        model = Plan

    name = factory.Sequence(lambda n: f"Plan {n}")
    users = 10
    connections = 10
    queues = 10
    value = 30


class CompanyFactory(_Base):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    email = factory.Sequence(lambda n: f"company{n}@example.com")
    status = True
    due_date = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    recurrence = "MENSAL"
    plan = factory.SubFactory(PlanFactory)


class UserFactory(_Base):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"User {n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))
    profile = "user"
    super = False
    company = factory.SubFactory(CompanyFactory)


class AdminFactory(UserFactory):
    profile = "admin"


class QueueFactory(_Base):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    color = factory.Sequence(lambda n: f"#{n:06x}")
    company = factory.SubFactory(CompanyFactory)


class WhatsappFactory(_Base):
    class Meta:
        model = Whatsapp

    name = factory.Sequence(lambda n: f"Connection {n}")
    company = factory.SubFactory(CompanyFactory)


class SettingFactory(_Base):
    class Meta:
        model = Setting

    key = "userRating"
    value = "disabled"
    company = factory.SubFactory(CompanyFactory)


class ContactFactory(_Base):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Contact {n}")
    number = factory.Sequence(lambda n: f"55119{n:08d}")
    company = factory.SubFactory(CompanyFactory)


class TicketFactory(_Base):
    class Meta:
        model = Ticket

    status = "pending"
    company = factory.SubFactory(CompanyFactory)
    contact = factory.SubFactory(ContactFactory, company=factory.SelfAttribute("..company"))
    whatsapp = factory.SubFactory(WhatsappFactory, company=factory.SelfAttribute("..company"))


class MessageFactory(_Base):
    class Meta:
        model = Message

    body = factory.Sequence(lambda n: f"message {n}")
    provider_id = factory.Sequence(lambda n: f"PROV{n:010d}")
    ack = 2
    ticket = factory.SubFactory(TicketFactory)
    company = factory.SelfAttribute("ticket.company")
    whatsapp_id = factory.SelfAttribute("ticket.whatsapp_id")
    contact_id = factory.SelfAttribute("ticket.contact_id")


class TagFactory(_Base):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Tag {n}")
    color = "#A4CCCC"
    company = factory.SubFactory(CompanyFactory)


class TicketNoteFactory(_Base):
    class Meta:
        model = TicketNote

    note = factory.Sequence(lambda n: f"note {n}")
    ticket = factory.SubFactory(TicketFactory)
    company = factory.SelfAttribute("ticket.company")
    contact_id = factory.SelfAttribute("ticket.contact_id")


class QuickMessageFactory(_Base):
    class Meta:
        model = QuickMessage

    shortcode = factory.Sequence(lambda n: f"short{n}")
    message = "Hello there"
    company = factory.SubFactory(CompanyFactory)


# -- billing (invoices) ----------------------------------------------------------

from whaticket.models import Invoice  # noqa: E402 - appended block, kept self-contained


class InvoiceFactory(_Base):
    class Meta:
        model = Invoice

    company = factory.SubFactory(CompanyFactory)
    detail = factory.LazyAttribute(lambda o: o.company.plan.name if o.company.plan else "Plan")
    status = "open"
    value = factory.LazyAttribute(lambda o: o.company.plan.value if o.company.plan else 30)
    due_date = factory.LazyFunction(lambda: utcnow() + timedelta(days=10))
    period = factory.LazyAttribute(lambda o: o.due_date.date().isoformat())


# -- internal chat -----------------------------------------------------------------

from whaticket.models import Chat, ChatMessage, ChatUser  # noqa: E402 - appended block


class ChatFactory(_Base):
    """A chat; its owner plus `users=[...]` become members."""

    class Meta:
        model = Chat

    title = factory.Sequence(lambda n: f"Chat {n}")
    last_message = ""
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))

    @factory.post_generation
    def users(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        members = [obj.owner, *(extracted or [])]
        obj.members = [ChatUser(user_id=user.id) for user in members if user is not None]
        if create:
            db.session.commit()


class ChatMessageFactory(_Base):
    """A message of `chat=` sent by its owner unless `sender_id=` says otherwise."""

    class Meta:
        model = ChatMessage

    class Params:
        chat = None

    chat_id = factory.LazyAttribute(lambda o: o.chat.id)
    company_id = factory.LazyAttribute(lambda o: o.chat.company_id)
    sender_id = factory.LazyAttribute(lambda o: o.chat.owner_id)
    message = factory.Sequence(lambda n: f"chat message {n}")
