"""Every model, imported here so Alembic, the shell and factories see them all."""

from whaticket.models.announcement import Announcement
from whaticket.models.api_token import API_SCOPES, ApiToken
from whaticket.models.assignment import TicketAssignment
from whaticket.models.campaign import Campaign, CampaignSetting, CampaignShipping
from whaticket.models.chat import Chat, ChatMessage, ChatUser
from whaticket.models.company import Company
from whaticket.models.contact import Contact, ContactCustomField
from whaticket.models.contact_identity import ContactIdentity, ContactMerge
from whaticket.models.contact_list import ContactList, ContactListItem
from whaticket.models.file_list import FileList, FileListOption
from whaticket.models.help import Help
from whaticket.models.import_job import ImportJob
from whaticket.models.import_map import ImportMap
from whaticket.models.inbound_event import InboundEvent
from whaticket.models.invoice import Invoice, Payment
from whaticket.models.message import Message
from whaticket.models.password_reset import PasswordResetToken
from whaticket.models.pending_job import PendingJob
from whaticket.models.plan import FEATURE_FLAGS, Plan
from whaticket.models.prompt import Prompt
from whaticket.models.queue import Queue, QueueOption, user_queues
from whaticket.models.queue_integration import QueueIntegration
from whaticket.models.quick_message import QuickMessage
from whaticket.models.refresh_token import RefreshToken
from whaticket.models.report_event import REPORT_KINDS, ReportDaily, ReportEvent
from whaticket.models.schedule import Schedule
from whaticket.models.search_index import PREFIX as SEARCH_PREFIX  # noqa: F401 - its DDL events
from whaticket.models.setting import Setting
from whaticket.models.sla_policy import SLA_STATUSES, SLA_TARGETS, SlaPolicy
from whaticket.models.tag import Tag
from whaticket.models.ticket import Ticket, TicketTracking, UserRating, ticket_tags
from whaticket.models.ticket_note import TicketNote
from whaticket.models.user import User
from whaticket.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription
from whaticket.models.whatsapp import (
    ConnectionEvent,
    ConnectionInterval,
    Whatsapp,
    whatsapp_queues,
)

__all__ = [
    "API_SCOPES",
    "FEATURE_FLAGS",
    "REPORT_KINDS",
    "SLA_STATUSES",
    "SLA_TARGETS",
    "Announcement",
    "ApiToken",
    "Campaign",
    "CampaignSetting",
    "CampaignShipping",
    "Chat",
    "ChatMessage",
    "ChatUser",
    "Company",
    "ConnectionEvent",
    "ConnectionInterval",
    "Contact",
    "ContactCustomField",
    "ContactIdentity",
    "ContactList",
    "ContactListItem",
    "ContactMerge",
    "FileList",
    "FileListOption",
    "Help",
    "ImportJob",
    "ImportMap",
    "InboundEvent",
    "Invoice",
    "Message",
    "PasswordResetToken",
    "Payment",
    "PendingJob",
    "Plan",
    "Prompt",
    "Queue",
    "QueueIntegration",
    "QueueOption",
    "QuickMessage",
    "RefreshToken",
    "ReportDaily",
    "ReportEvent",
    "Schedule",
    "Setting",
    "SlaPolicy",
    "Tag",
    "Ticket",
    "TicketAssignment",
    "TicketNote",
    "TicketTracking",
    "User",
    "UserRating",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "Whatsapp",
    "ticket_tags",
    "user_queues",
    "whatsapp_queues",
]
