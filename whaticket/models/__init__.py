"""Every model, imported here so Alembic, the shell and factories see them all."""

from whaticket.models.company import Company
from whaticket.models.plan import FEATURE_FLAGS, Plan
from whaticket.models.queue import Queue, user_queues
from whaticket.models.refresh_token import RefreshToken
from whaticket.models.setting import Setting
from whaticket.models.user import User
from whaticket.models.whatsapp import Whatsapp

__all__ = [
    "FEATURE_FLAGS",
    "Company",
    "Plan",
    "Queue",
    "RefreshToken",
    "Setting",
    "User",
    "Whatsapp",
    "user_queues",
]
