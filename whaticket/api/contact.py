"""Contact find-or-create endpoint: `GET /contact?number=&name=` (shared vCards)."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import Contact
from whaticket.schemas.contacts import ContactSchema, FindOrCreateArgsSchema
from whaticket.security import auth_required, current_company_id
from whaticket.services.contacts import contacts as contact_service

blp = Blueprint("contact", __name__, url_prefix="/contact", description="Contact find-or-create")


@blp.get("")
@auth_required
@blp.arguments(FindOrCreateArgsSchema, location="query")
@blp.response(200, ContactSchema)
def find_or_create(args: dict) -> Contact:
    """The company's contact with this number, created (named `name` or the number) if new."""
    contact, created = contact_service.find_or_create(
        current_company_id(), args["number"], args["name"]
    )
    if created:
        dbmod.commit()
    return contact
