"""Queue integration endpoints (`/queueIntegration`): page, show, create, update, delete."""

from __future__ import annotations

from typing import NoReturn

from flask import Response, jsonify
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import QueueIntegration
from whaticket.schemas.base import OkSchema
from whaticket.schemas.queue_integrations import (
    AdminQueueIntegrationSchema,
    DialogflowTestSchema,
    QueueIntegrationCreateSchema,
    QueueIntegrationPageArgsSchema,
    QueueIntegrationPageSchema,
    QueueIntegrationSchema,
    QueueIntegrationUpdateSchema,
)
from whaticket.security import (
    admin_required,
    auth_required,
    current_company_id,
    require_plan_feature,
)
from whaticket.services.bots import queue_integrations as integration_service

blp = Blueprint(
    "queue_integrations",
    __name__,
    url_prefix="/queueIntegration",
    description="Queue integrations (webhook, n8n, Typebot)",
)
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_integrations"))


def _schema(many: bool = False) -> QueueIntegrationSchema:
    """Admins see the signing secret (they configure the receiver); agents do not."""
    cls = AdminQueueIntegrationSchema if current_user.is_admin else QueueIntegrationSchema
    return cls(many=many)


def _answer(record: QueueIntegration, status: int = 200) -> Response:
    """Serialise before the commit (no reload needed), then commit and answer."""
    body = _schema().dump(record)
    dbmod.commit()
    resp = jsonify(body)
    resp.status_code = status
    return resp


@blp.get("")
@auth_required
@blp.arguments(QueueIntegrationPageArgsSchema, location="query")
@blp.response(200, QueueIntegrationPageSchema)
def list_integrations(args: dict) -> Response:
    """A page of the company's integrations, newest first."""
    rows, count, has_more = integration_service.list_integrations(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return jsonify(
        {"queueIntegrations": _schema(many=True).dump(rows), "count": count, "hasMore": has_more}
    )


@blp.post("/testSession")
@admin_required
@blp.arguments(DialogflowTestSchema)
def test_session(data: dict) -> NoReturn:
    """The modal's "Testar Bot" of a Dialogflow integration (admins): always a 400 saying why.

    Dialogflow is stored, not run, so the answer is ERR_DIALOGFLOW_NOT_SUPPORTED for good
    settings (ERR_INVALID_DIALOGFLOW_CREDENTIALS / ERR_VALIDATION for bad ones).
    """
    integration_service.test_dialogflow_session(current_company_id(), data)


@blp.get("/<int:integration_id>")
@auth_required
@blp.response(200, AdminQueueIntegrationSchema)
def show_integration(integration_id: int) -> Response:
    """One integration of the caller's company."""
    record = integration_service.get_integration(current_company_id(), integration_id)
    return jsonify(_schema().dump(record))


@blp.post("")
@admin_required
@blp.arguments(QueueIntegrationCreateSchema)
@blp.response(200, AdminQueueIntegrationSchema)
def create_integration(data: dict) -> Response:
    """Create an integration (admins)."""
    return _answer(integration_service.create_integration(current_company_id(), data))


@blp.put("/<int:integration_id>")
@admin_required
@blp.arguments(QueueIntegrationUpdateSchema)
@blp.response(201, AdminQueueIntegrationSchema)
def update_integration(data: dict, integration_id: int) -> Response:
    """Update an integration (admins); 201 as the SaaS answers."""
    record = integration_service.update_integration(current_company_id(), integration_id, data)
    return _answer(record, 201)


@blp.post("/<int:integration_id>/secret")
@admin_required
@blp.response(200, AdminQueueIntegrationSchema)
def rotate_secret(integration_id: int) -> Response:
    """Replace the webhook signing secret (admins) and answer the record with the new one."""
    return _answer(integration_service.rotate_secret(current_company_id(), integration_id))


@blp.delete("/<int:integration_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_integration(integration_id: int) -> dict[str, str]:
    """Delete an integration (admins); queues and connections using it let go of it."""
    integration_service.delete_integration(current_company_id(), integration_id)
    dbmod.commit()
    return {"message": "Integration deleted"}
