"""AI prompt endpoints (`/prompt`): page and show for the company's users, writes for admins."""

from __future__ import annotations

from typing import Any

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import Prompt
from whaticket.schemas.base import OkSchema
from whaticket.schemas.prompts import (
    PromptCreateSchema,
    PromptPageArgsSchema,
    PromptPageSchema,
    PromptSchema,
    PromptUpdateSchema,
)
from whaticket.security import (
    admin_required,
    auth_required,
    current_company_id,
    require_plan_feature,
)
from whaticket.services.bots import prompts as prompt_service

blp = Blueprint("prompts", __name__, url_prefix="/prompt", description="AI prompts")
# The plan decides whether the company has AI at all (403 otherwise).
blp.before_request(require_plan_feature("use_open_ai"))


@blp.get("")
@auth_required
@blp.arguments(PromptPageArgsSchema, location="query")
@blp.response(200, PromptPageSchema)
def list_prompts(args: dict) -> dict[str, Any]:
    """A page of the company's prompts (queue and connection forms list them too)."""
    rows, count, has_more = prompt_service.list_prompts(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"prompts": rows, "count": count, "has_more": has_more}


@blp.get("/<int:prompt_id>")
@auth_required
@blp.response(200, PromptSchema)
def show_prompt(prompt_id: int) -> Prompt:
    """One prompt of the caller's company."""
    return prompt_service.get_prompt(current_company_id(), prompt_id)


@blp.post("")
@admin_required
@blp.arguments(PromptCreateSchema)
@blp.response(200, PromptSchema)
def create_prompt(data: dict) -> Prompt:
    """Create a prompt (admins)."""
    record = prompt_service.create_prompt(current_company_id(), data)
    dbmod.commit()
    return record


@blp.put("/<int:prompt_id>")
@admin_required
@blp.arguments(PromptUpdateSchema)
@blp.response(200, PromptSchema)
def update_prompt(data: dict, prompt_id: int) -> Prompt:
    """Update a prompt (admins); an empty or placeholder apiKey keeps the stored key."""
    record = prompt_service.update_prompt(current_company_id(), prompt_id, data)
    dbmod.commit()
    return record


@blp.delete("/<int:prompt_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_prompt(prompt_id: int) -> dict[str, str]:
    """Delete a prompt (admins); 409 ERR_PROMPT_IN_USE while a queue or connection uses it."""
    prompt_service.delete_prompt(current_company_id(), prompt_id)
    dbmod.commit()
    return {"message": "Prompt deleted"}
