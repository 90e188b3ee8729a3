"""Media files: `GET /public/<company_id>/<path>`, by signed URL or the company's token.

Anything not allowed (bad or expired signature, another company, traversal, missing file)
is the same 404, so the endpoint never reveals whether a file exists.
"""

from __future__ import annotations

from flask import Response, request, send_file
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.security import PUBLIC
from whaticket.services.platform import media as media_service
from whaticket.utils.media_urls import signature_valid

blp = Blueprint("public", __name__, url_prefix="/public", description="Media files")


def _token_of_company(company_id: int) -> bool:
    """True when the request carries a valid access token of a user of `company_id`."""
    if "Authorization" not in request.headers:
        return False
    try:
        verify_jwt_in_request()
        user = get_current_user()
    except Exception:  # any bad token just means "not authorised": answer the same 404
        return False
    return user is not None and int(user.company_id) == company_id


@blp.get("/<int:company_id>/<path:rel>")
@blp.doc(security=PUBLIC)
def serve_media(company_id: int, rel: str) -> Response:
    """Serve a stored file when `sig` signs it until `exp` (not yet passed) or the caller
    belongs to the company."""
    signed = signature_valid(company_id, rel, request.args.get("exp"), request.args.get("sig"))
    allowed = signed or _token_of_company(company_id)
    if not allowed:
        raise AppError("ERR_NOT_FOUND", 404)
    path = media_service.absolute_path(company_id, rel)
    mimetype = media_service.serving_mimetype(path)
    download_name = path.name.split("-", 1)[-1] or path.name
    resp = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not media_service.is_inline(mimetype),
        download_name=download_name,
        conditional=True,
        max_age=3600,
    )
    # Token-authorised responses must not sit in shared caches.
    resp.cache_control.public = False
    resp.cache_control.private = True
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # A file opened directly must never run scripts on the API's origin.
    resp.headers["Content-Security-Policy"] = "sandbox"
    return resp
