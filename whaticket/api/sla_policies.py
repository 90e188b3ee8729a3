"""SLA policy endpoints (`/sla-policies`): admins write, every user of the company reads."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.sla_policies import (
    SlaPolicyCreateSchema,
    SlaPolicySchema,
    SlaPolicyUpdateSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.sla import policies as policy_service

blp = Blueprint("sla_policies", __name__, url_prefix="/sla-policies", description="SLA policies")


@blp.get("")
@auth_required
@blp.response(200, SlaPolicySchema(many=True))
def list_policies():
    """The company's policies in matching order (defaults, without rules, last)."""
    return policy_service.list_policies(current_company_id())


@blp.get("/<int:policy_id>")
@auth_required
@blp.response(200, SlaPolicySchema)
def show_policy(policy_id: int):
    """One policy of the company."""
    return policy_service.get_policy(current_company_id(), policy_id)


@blp.post("")
@admin_required
@blp.arguments(SlaPolicyCreateSchema)
@blp.response(200, SlaPolicySchema)
def create_policy(data: dict):
    """Create a policy; episodes starting from now on may take it."""
    policy = policy_service.create_policy(current_company_id(), data)
    dbmod.commit()
    return policy


@blp.put("/<int:policy_id>")
@admin_required
@blp.arguments(SlaPolicyUpdateSchema)
@blp.response(200, SlaPolicySchema)
def update_policy(data: dict, policy_id: int):
    """Change a policy; running episodes get new due times (a job)."""
    policy = policy_service.update_policy(current_company_id(), policy_id, data)
    dbmod.commit()
    return policy


@blp.delete("/<int:policy_id>")
@admin_required
@blp.response(200)
def delete_policy(policy_id: int):
    """Delete a policy: its running episodes are no longer measured."""
    policy_service.delete_policy(current_company_id(), policy_id)
    dbmod.commit()
    return {"message": "SLA policy deleted"}
