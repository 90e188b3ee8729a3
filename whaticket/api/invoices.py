"""Invoice endpoints: each company's bills, and super-user status edits and deletion."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.base import PageArgsSchema
from whaticket.schemas.invoices import InvoicePageSchema, InvoiceSchema, InvoiceUpdateSchema
from whaticket.security import auth_required, current_company_id, super_required
from whaticket.services.billing import invoices as invoice_service

blp = Blueprint("invoices", __name__, url_prefix="/invoices", description="Invoices")


@blp.get("")
@auth_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, InvoicePageSchema)
def list_invoices(args: dict) -> dict:
    """A page of invoices: the caller's company's, or every company's for super users."""
    rows, count, has_more = invoice_service.list_invoices(
        current_user, args["search_param"], args["page_number"]
    )
    return {"invoices": rows, "count": count, "has_more": has_more}


@blp.get("/all")
@auth_required
@blp.response(200, InvoiceSchema(many=True))
def list_all():
    """Every invoice of the caller's company (the "Financeiro" page)."""
    return invoice_service.list_company_invoices(current_company_id())


@blp.get("/list")
@auth_required
@blp.response(200, InvoiceSchema(many=True))
def list_plain():
    """Same as /all (the SaaS route was public and crashed; here it needs a token)."""
    return invoice_service.list_company_invoices(current_company_id())


@blp.get("/<int:invoice_id>")
@auth_required
@blp.response(200, InvoiceSchema)
def show_invoice(invoice_id: int):
    """One invoice of the caller's company (any company's for super users)."""
    return invoice_service.get_invoice(current_user, invoice_id)


@blp.put("/<int:invoice_id>")
@super_required
@blp.arguments(InvoiceUpdateSchema)
@blp.response(200, InvoiceSchema)
def update_invoice(data: dict, invoice_id: int):
    """Set an invoice's status (super users; the id is the path's, never the body's)."""
    invoice = invoice_service.update_invoice(invoice_id, data)
    dbmod.commit()
    return invoice


@blp.delete("/<int:invoice_id>")
@super_required
@blp.response(200)
def delete_invoice(invoice_id: int):
    """Delete an invoice and its charges (super users)."""
    invoice_service.delete_invoice(invoice_id)
    dbmod.commit()
    return {"message": "Invoice deleted"}
