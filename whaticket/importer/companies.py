"""Plans, Companies and Settings: the tenants, their plans, due dates and settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_datetime, as_int, as_json, opt_text, text
from whaticket.models import Company, Plan, Setting

#: Plan flags: old camelCase column -> ours.
PLAN_FLAGS = {
    "useSchedules": "use_schedules",
    "useCampaigns": "use_campaigns",
    "useInternalChat": "use_internal_chat",
    "useExternalApi": "use_external_api",
    "useKanban": "use_kanban",
    "useOpenAi": "use_open_ai",
    "useIntegrations": "use_integrations",
}


def _stamps(row: dict[str, Any]) -> dict[str, Any]:
    """created_at / updated_at kept from the old row where it has them."""
    out = {}
    for old, new in (("createdAt", "created_at"), ("updatedAt", "updated_at")):
        value = as_datetime(row.get(old))
        if value is not None:
            out[new] = value
    return out


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; True when any did."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


class Plans(Step):
    """A plan of the same name is the same plan: its limits and flags take the old values."""

    table = "Plans"

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        """Our plan's columns from an old row."""
        out: dict[str, Any] = {
            "name": text(row.get("name"), 120) or f"Plan {row['id']}",
            "users": as_int(row.get("users")),
            "connections": as_int(row.get("connections")),
            "queues": as_int(row.get("queues")),
            "value": Decimal(str(row.get("value") or 0)).quantize(Decimal("0.01")),
        }
        for old, new in PLAN_FLAGS.items():
            out[new] = as_bool(row.get(old), default=True)
        return out

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by name."""
        for row in rows:
            values = self.values(row)
            plan = db.session.scalar(sa.select(Plan).where(Plan.name == values["name"]))
            if plan is not None:
                _assign(plan, values)
                db.session.flush()
                ctx.merged(self, row, plan.id, "plan of the same name already here")
                continue
            plan = Plan(**values, **_stamps(row))
            db.session.add(plan)
            db.session.flush()
            ctx.written(self, row, plan.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed limits and flags."""
        plan = db.session.get(Plan, mapped.new_id)
        changed = plan is not None and _assign(plan, self.values(row))
        db.session.flush()
        return changed


class Companies(Step):
    """Due date, status, recurrence and schedules kept; a company of the same name is the
    same company (the old "Empresa 1" lands on the one `flask seed` made)."""

    table = "Companies"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """Our company's columns from an old row."""
        return {
            "name": text(row.get("name"), 255) or f"Company {row['id']}",
            "phone": opt_text(row.get("phone"), 40),
            "email": opt_text(row.get("email"), 255),
            "status": as_bool(row.get("status"), default=True),
            "due_date": as_datetime(row.get("dueDate")),
            "recurrence": opt_text(row.get("recurrence"), 20),
            "schedules": as_json(row.get("schedules"), []) or [],
            "plan_id": ctx.maps.new_id("Plans", row.get("planId")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by name."""
        for row in rows:
            values = self.values(ctx, row)
            if row.get("planId") is not None and values["plan_id"] is None:
                ctx.report.note(self.table, "note", row["id"], "plan missing: kept without plan")
            company = db.session.scalar(sa.select(Company).where(Company.name == values["name"]))
            if company is not None:
                _assign(company, values)
                db.session.flush()
                ctx.merged(self, row, company.id, "company of the same name already here")
                continue
            company = Company(**values, **_stamps(row))
            db.session.add(company)
            db.session.flush()
            ctx.written(self, row, company.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed due date, status, plan..."""
        company = db.session.get(Company, mapped.new_id)
        changed = company is not None and _assign(company, self.values(ctx, row))
        db.session.flush()
        return changed


class Settings(Step):
    """(company, key) is one setting: the old value replaces our default."""

    table = "Settings"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write, or overwrite the company's setting of that key."""
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            key = text(row.get("key"), 100)
            if company_id is None:
                ctx.skipped(self, row, "company missing (orphan)")
                continue
            if not key:
                ctx.skipped(self, row, "setting without a key")
                continue
            value = text(row.get("value"))
            setting = db.session.scalar(
                sa.select(Setting).where(Setting.company_id == company_id, Setting.key == key)
            )
            if setting is not None:
                setting.value = value
                db.session.flush()
                ctx.merged(
                    self, row, setting.id, "setting of this key already here (old value kept)"
                )
                continue
            setting = Setting(company_id=company_id, key=key, value=value, **_stamps(row))
            db.session.add(setting)
            db.session.flush()
            ctx.written(self, row, setting.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed value."""
        setting = db.session.get(Setting, mapped.new_id)
        changed = setting is not None and _assign(setting, {"value": text(row.get("value"))})
        db.session.flush()
        return changed
