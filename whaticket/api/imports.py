"""Import job endpoint: `GET /imports/<id>`, the progress and summary of a big upload
(`POST /contacts/upload`, `POST /contact-lists/<id>/upload` answer 202 with its id)."""

from __future__ import annotations

from whaticket.api.base import Blueprint
from whaticket.models import ImportJob
from whaticket.schemas.imports import ImportSchema
from whaticket.security import auth_required, current_company_id
from whaticket.services.platform import imports as import_service

blp = Blueprint("imports", __name__, url_prefix="/imports", description="Spreadsheet import jobs")


@blp.get("/<int:import_id>")
@auth_required
@blp.response(200, ImportSchema)
def show_import(import_id: int) -> ImportJob:
    """An import of the company: status, rows done of total, counts, the first refused rows
    (404 ERR_NOT_FOUND for another company's)."""
    return import_service.get_import(current_company_id(), import_id)
