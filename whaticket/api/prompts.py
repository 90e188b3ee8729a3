"""AI prompt endpoints (`/prompt`): page and show for the company's users, writes for admins."""

from __future__ import annotations

from flask import Response, jsonify

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
from whaticket.services import prompts as prompt_service

blp = Blueprint("prompts", __name__, url_prefix="/prompt", description="AI prompts")
# The plan decides whether the company has AI at all (403 otherwise).
blp.before_request(require_plan_feature("use_open_ai"))


def _answer(record: Prompt) -> Response:
    """Serialise before the commit (no reload needed), then commit and answer."""
    body = PromptSchema().dump(record)
    dbmod.commit()
    return jsonify(body)


@blp.get("")
@auth_required
@blp.arguments(PromptPageArgsSchema, location="query")
@blp.response(200, PromptPageSchema)
def list_prompts(args: dict) -> Response:
    """A page of the company's prompts (queue and connection forms list them too)."""
    rows, count, has_more = prompt_service.list_prompts(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return jsonify(
        {"prompts": PromptSchema(many=True).dump(rows), "count": count, "hasMore": has_more}
    )


@blp.get("/<int:prompt_id>")
@auth_required
@blp.response(200, PromptSchema)
def show_prompt(prompt_id: int) -> Response:
    """One prompt of the caller's company."""
    return jsonify(PromptSchema().dump(prompt_service.get_prompt(current_company_id(), prompt_id)))


@blp.post("")
@admin_required
@blp.arguments(PromptCreateSchema)
@blp.response(200, PromptSchema)
def create_prompt(data: dict) -> Response:
    """Create a prompt (admins)."""
    return _answer(prompt_service.create_prompt(current_company_id(), data))


@blp.put("/<int:prompt_id>")
@admin_required
@blp.arguments(PromptUpdateSchema)
@blp.response(200, PromptSchema)
def update_prompt(data: dict, prompt_id: int) -> Response:
    """Update a prompt (admins); an empty or placeholder apiKey keeps the stored key."""
    return _answer(prompt_service.update_prompt(current_company_id(), prompt_id, data))


@blp.delete("/<int:prompt_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_prompt(prompt_id: int) -> dict[str, str]:
    """Delete a prompt (admins); 409 ERR_PROMPT_IN_USE while a queue or connection uses it."""
    prompt_service.delete_prompt(current_company_id(), prompt_id)
    dbmod.commit()
    return {"message": "Prompt deleted"}
