"""Campaign settings: pacing, variables, daily cap and quiet hours of a company's campaigns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import sqlalchemy as sa

from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import CampaignSetting
from whaticket.realtime.emit import emit_to_company

#: The SaaS keys plus ours (dailyCap, quietHours); anything else is refused.
KEYS = (
    "messageInterval",
    "longerIntervalAfter",
    "greaterInterval",
    "variables",
    "dailyCap",
    "quietHours",
)
#: The reference's defaults (seconds, messages, seconds); no cap, no quiet hours.
DEFAULTS: dict[str, Any] = {
    "messageInterval": 20,
    "longerIntervalAfter": 20,
    "greaterInterval": 60,
    "variables": [],
    "dailyCap": 0,
    "quietHours": None,
}


@dataclass
class CampaignConfig:
    """A company's campaign settings, parsed."""

    message_interval: float = 20
    longer_interval_after: int = 20
    greater_interval: float = 60
    variables: dict[str, str] = field(default_factory=dict)
    daily_cap: int = 0
    quiet_start: time | None = None
    quiet_end: time | None = None

    @property
    def paced(self) -> bool:
        """Whether sends must be spaced at all."""
        return self.message_interval > 0 or self.greater_interval > 0


def _encode(value: Any) -> str | None:
    """Arrays and objects as JSON text, scalars as text (the SaaS stores strings)."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _decode(key: str, raw: str | None) -> Any:
    if raw is None or raw == "":
        return DEFAULTS[key]
    if key in ("variables", "quietHours"):
        try:
            return json.loads(raw)
        except ValueError:
            return DEFAULTS[key]
    return raw


def list_settings(company_id: int) -> list[CampaignSetting]:
    """The company's setting rows (SaaS shape `[{key, value}]`)."""
    return list(
        db.session.scalars(
            sa.select(CampaignSetting)
            .where(CampaignSetting.company_id == company_id)
            .order_by(CampaignSetting.key)
        )
    )


def save_settings(company_id: int, settings: dict[str, Any]) -> list[CampaignSetting]:
    """Upsert each key sent (validated by the schema) and emit the change."""
    for key, value in settings.items():
        row = db.session.scalar(
            sa.select(CampaignSetting).where(
                CampaignSetting.company_id == company_id, CampaignSetting.key == key
            )
        )
        if row is None:
            try:
                with savepoint():
                    db.session.add(
                        CampaignSetting(company_id=company_id, key=key, value=_encode(value))
                    )
                    db.session.flush()
                continue
            except sa.exc.IntegrityError:  # a concurrent save created it: update that one
                row = db.session.scalar(
                    sa.select(CampaignSetting).where(
                        CampaignSetting.company_id == company_id, CampaignSetting.key == key
                    )
                )
        if row is not None:
            row.value = _encode(value)
    db.session.flush()
    rows = list_settings(company_id)
    emit_to_company(
        company_id,
        "campaignSettings",
        {"action": "update", "settings": [{"key": r.key, "value": r.value} for r in rows]},
    )
    return rows


def _hhmm(value: Any) -> time | None:
    try:
        hours, minutes = (int(part) for part in str(value).split(":")[:2])
        return time(hours, minutes)
    except (TypeError, ValueError):
        return None


def config(company_id: int) -> CampaignConfig:
    """The parsed settings the dispatcher runs with (defaults where unset or malformed)."""
    raw = {row.key: _decode(row.key, row.value) for row in list_settings(company_id)}
    values = {key: raw.get(key, default) for key, default in DEFAULTS.items()}

    def number(key: str) -> float:
        try:
            return max(0.0, float(values[key]))
        except (TypeError, ValueError):
            return float(DEFAULTS[key])

    variables = {}
    for item in values["variables"] or []:
        if isinstance(item, dict) and item.get("key"):
            variables[str(item["key"])] = str(item.get("value") or "")
    quiet = values["quietHours"] if isinstance(values["quietHours"], dict) else {}
    return CampaignConfig(
        message_interval=number("messageInterval"),
        longer_interval_after=int(number("longerIntervalAfter")),
        greater_interval=number("greaterInterval"),
        variables=variables,
        daily_cap=int(number("dailyCap")),
        quiet_start=_hhmm(quiet.get("start")),
        quiet_end=_hhmm(quiet.get("end")),
    )
