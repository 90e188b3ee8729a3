"""Plan endpoints: public list for signup, super-user CRUD."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.base import PageArgsSchema
from whaticket.schemas.plans import PlanFlagsSchema, PlanPageSchema, PlanSchema, PlanUpdateSchema
from whaticket.security import PUBLIC, auth_required, super_required
from whaticket.services.billing import plans as plan_service

blp = Blueprint("plans", __name__, url_prefix="/plans", description="Subscription plans")


@blp.get("")
@auth_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PlanPageSchema)
def list_plans(args: dict) -> dict:
    """A page of plans."""
    rows, count, has_more = plan_service.list_plans(args["search_param"], args["page_number"])
    return {"plans": rows, "count": count, "has_more": has_more}


# The public lists dump only limits, price and flags (PlanFlagsSchema): nothing an
# anonymous caller has no business seeing, such as row timestamps.
@blp.get("/list")
@blp.response(200, PlanFlagsSchema(many=True))
@blp.doc(security=PUBLIC)
def list_public():
    """Every plan ordered by name (public: the signup page reads it)."""
    return plan_service.list_all()


@blp.get("/all")
@blp.response(200, PlanFlagsSchema(many=True))
@blp.doc(security=PUBLIC)
def list_all():
    """Every plan ordered by name (public alias of /plans/list)."""
    return plan_service.list_all()


@blp.get("/<int:plan_id>")
@auth_required
@blp.response(200, PlanSchema)
def show_plan(plan_id: int):
    """One plan."""
    return plan_service.get_plan(plan_id)


@blp.post("")
@super_required
@blp.arguments(PlanSchema)
@blp.response(200, PlanSchema)
def create_plan(data: dict):
    """Create a plan (super users)."""
    plan = plan_service.create_plan(data)
    dbmod.commit()
    return plan


@blp.put("/<int:plan_id>")
@super_required
@blp.arguments(PlanUpdateSchema)
@blp.response(200, PlanSchema)
def update_plan(data: dict, plan_id: int):
    """Update a plan (super users)."""
    plan = plan_service.update_plan(plan_id, data)
    dbmod.commit()
    return plan


@blp.delete("/<int:plan_id>")
@super_required
@blp.response(200)
def delete_plan(plan_id: int):
    """Delete a plan no company uses (super users)."""
    plan_service.delete_plan(plan_id)
    dbmod.commit()
    return {"message": "Plan deleted"}
