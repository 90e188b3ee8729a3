"""SLA policies: company-scoped CRUD, and which policy a ticket's episode takes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket import jobs
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, SlaPolicy, Tag, Ticket, TicketTracking, Whatsapp
from whaticket.utils.queries import get_owned, value_taken

#: The rule lists and the models their ids must belong to (the company's own).
_RULES = {"queue_ids": Queue, "tag_ids": Tag, "whatsapp_ids": Whatsapp}
#: Editing these changes the due times of the policy's running episodes.
_TIMING = (
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "business_hours",
    "warning_fraction",
)


def list_policies(company_id: int) -> list[SlaPolicy]:
    """The company's policies in matching order (rules first by position; defaults last)."""
    policies = db.session.scalars(sa.select(SlaPolicy).where(SlaPolicy.company_id == company_id))
    return sorted(policies, key=_order)


def has_policies(company_id: int) -> bool:
    """Whether the company has any policy."""
    stmt = sa.select(SlaPolicy.id).where(SlaPolicy.company_id == company_id).limit(1)
    return db.session.scalar(stmt) is not None


def _order(policy: SlaPolicy) -> tuple[bool, int, int]:
    """Policies with rules by (position, id), then the rule-less defaults by (position, id)."""
    return (not _has_rules(policy), policy.position, policy.id)


def _has_rules(policy: SlaPolicy) -> bool:
    return bool(policy.queue_ids or policy.tag_ids or policy.whatsapp_ids)


def get_policy(company_id: int, policy_id: int) -> SlaPolicy:
    """A policy of the company; another company's is 404 like a missing one."""
    return get_owned(SlaPolicy, policy_id, company_id, "ERR_NO_SLA_POLICY_FOUND")


def _check(company_id: int, data: dict[str, Any], exclude_id: int | None = None) -> None:
    """Unique name per company; every rule id names a row of the company (400 otherwise)."""
    if "name" in data and value_taken(
        SlaPolicy.name,
        data["name"],
        exclude_id=exclude_id,
        where=(SlaPolicy.company_id == company_id,),
    ):
        raise AppError("ERR_SLA_POLICY_NAME_EXISTS", 400)
    for key, model in _RULES.items():
        ids = set(data.get(key) or [])
        if not ids:
            continue
        found = set(
            db.session.scalars(
                sa.select(model.id).where(model.id.in_(ids), model.company_id == company_id)
            )
        )
        if found != ids:
            field = key.replace("_ids", "Ids")
            raise AppError("ERR_VALIDATION", 400, {field: ["Unknown id."]})


def create_policy(company_id: int, data: dict[str, Any]) -> SlaPolicy:
    """A new policy (it applies to episodes that start from now on)."""
    _check(company_id, data)
    policy = SlaPolicy(company_id=company_id, **_clean(data))
    db.session.add(policy)
    db.session.flush()
    return policy


def update_policy(company_id: int, policy_id: int, data: dict[str, Any]) -> SlaPolicy:
    """Change a policy; new targets reach its running episodes through `sla.recompute`."""
    policy = get_policy(company_id, policy_id)
    _check(company_id, data, exclude_id=policy.id)
    timing_changed = any(k in data and data[k] != getattr(policy, k) for k in _TIMING)
    for key, value in _clean(data).items():
        setattr(policy, key, value)
    db.session.flush()
    if timing_changed:
        jobs.enqueue("sla.recompute", company_id, policy.id, durable=True)
    return policy


def delete_policy(company_id: int, policy_id: int) -> None:
    """Delete a policy: its running episodes stop being measured (finished ones keep
    their events)."""
    policy = get_policy(company_id, policy_id)
    db.session.execute(
        sa.update(TicketTracking)
        .where(TicketTracking.sla_policy_id == policy.id)
        .values(sla_policy_id=None, sla_status=None, sla_check_at=None),
        execution_options={"synchronize_session": False},
    )
    db.session.delete(policy)
    db.session.flush()


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Rule lists stored sorted and without duplicates."""
    out = dict(data)
    for key in _RULES:
        if key in out:
            out[key] = sorted(set(out[key] or []))
    return out


def match(
    company_id: int, ticket: Ticket, *, queue_id: int | bool | None = False
) -> SlaPolicy | None:
    """The first policy whose rules the ticket meets (queue, any of the tags, connection;
    an empty rule matches anything); `queue_id` replaces the ticket's (a transfer)."""
    queue = ticket.queue_id if queue_id is False else queue_id
    tags = {tag.id for tag in ticket.tags}
    for policy in list_policies(company_id):
        if policy.queue_ids and queue not in policy.queue_ids:
            continue
        if policy.tag_ids and not tags & set(policy.tag_ids):
            continue
        if policy.whatsapp_ids and ticket.whatsapp_id not in policy.whatsapp_ids:
            continue
        return policy
    return None
