"""Company settings: defaults for new companies, validated updates, settings events."""

from __future__ import annotations

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Setting
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.settings import SettingSchema

ENABLED = ("enabled", "disabled")

#: key -> allowed values (None = free text), in the SaaS settings page order.
ALLOWED: dict[str, tuple[str, ...] | None] = {
    "userRating": ENABLED,
    "scheduleType": ("disabled", "company", "queue"),
    "CheckMsgIsGroup": ENABLED,
    "call": ENABLED,
    "chatBotType": ("text", "button", "list"),
    "sendGreetingAccepted": ENABLED,
    "sendMsgTransfTicket": ENABLED,
    "sendGreetingMessageOneQueues": ENABLED,
    "campaignsEnabled": ("true", "false"),
    "asaas": None,
    "tokenixc": None,
    "ipixc": None,
    "ipmkauth": None,
    "clientidmkauth": None,
    "clientsecretmkauth": None,
    "tokensgp": None,
    "ipsgp": None,
    "appsgp": None,
}

#: Defaults every new company gets (reference §7.1 / §8.1; CheckMsgIsGroup fixed).
DEFAULTS: dict[str, str] = {
    "userRating": "disabled",
    "scheduleType": "disabled",
    "CheckMsgIsGroup": "enabled",
    "call": "disabled",
    "chatBotType": "text",
    "sendGreetingAccepted": "disabled",
    "sendMsgTransfTicket": "disabled",
    "sendGreetingMessageOneQueues": "disabled",
    "asaas": "",
    "tokenixc": "",
    "ipixc": "",
    "ipmkauth": "",
    "clientidmkauth": "",
    "clientsecretmkauth": "",
    "tokensgp": "",
    "ipsgp": "",
    "appsgp": "",
}

#: Credentials that only admins may read.
SECRET_KEYS = frozenset({"asaas", "tokenixc", "clientsecretmkauth", "tokensgp"})

MAX_VALUE_LENGTH = 2000


def create_defaults(company_id: int, campaigns_enabled: bool | None = None) -> list[Setting]:
    """Create the default settings of a new company (missing keys only)."""
    existing = set(
        db.session.scalars(sa.select(Setting.key).where(Setting.company_id == company_id))
    )
    values = dict(DEFAULTS)
    if campaigns_enabled is not None:
        values["campaignsEnabled"] = "true" if campaigns_enabled else "false"
    created = []
    for key, value in values.items():
        if key not in existing:
            setting = Setting(company_id=company_id, key=key, value=value)
            db.session.add(setting)
            created.append(setting)
    db.session.flush()
    return created


def list_settings(company_id: int, *, include_secrets: bool) -> list[Setting]:
    """Every setting of the company; secret values blanked for non-admins."""
    rows = list(
        db.session.scalars(
            sa.select(Setting).where(Setting.company_id == company_id).order_by(Setting.id)
        )
    )
    if include_secrets:
        return rows
    return [_masked(row) if row.key in SECRET_KEYS and row.value else row for row in rows]


def _masked(row: Setting) -> Setting:
    """A transient copy with the value hidden: it is never added to the session."""
    return Setting(
        id=row.id,
        company_id=row.company_id,
        key=row.key,
        value="********",
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_setting(company_id: int, key: str) -> Setting:
    """One setting by key; 404 ERR_NO_SETTING_FOUND when the company lacks it."""
    setting = db.session.scalar(
        sa.select(Setting).where(Setting.company_id == company_id, Setting.key == key)
    )
    if setting is None:
        raise AppError("ERR_NO_SETTING_FOUND", 404)
    return setting


def get_value(company_id: int, key: str, default: str | None = None) -> str | None:
    """A setting's value, or `default` when unset."""
    value = db.session.scalar(
        sa.select(Setting.value).where(Setting.company_id == company_id, Setting.key == key)
    )
    return default if value is None else value


def update_setting(company_id: int, key: str, value: str) -> Setting:
    """Set a known key to an allowed value (find-or-create) and emit the change."""
    if key not in ALLOWED:
        raise AppError("ERR_NO_SETTING_FOUND", 404)
    allowed = ALLOWED[key]
    if allowed is not None and value not in allowed:
        raise AppError("ERR_VALIDATION", 400, {"value": [f"Must be one of: {', '.join(allowed)}."]})
    if len(value) > MAX_VALUE_LENGTH:
        raise AppError("ERR_VALIDATION", 400, {"value": ["Too long."]})
    setting = db.session.scalar(
        sa.select(Setting).where(Setting.company_id == company_id, Setting.key == key)
    )
    if setting is None:
        setting = Setting(company_id=company_id, key=key, value=value)
        db.session.add(setting)
    setting.value = value
    db.session.flush()
    emit_to_company(company_id, "settings", {"action": "update", "setting": _payload(setting)})
    return setting


def _payload(setting: Setting) -> dict:
    """The setting as the frontend expects it in events."""
    # Events reach every socket of the company, agents included: hide credentials.
    shown = _masked(setting) if setting.key in SECRET_KEYS and setting.value else setting
    return SettingSchema().dump(shown)
