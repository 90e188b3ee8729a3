"""The views' toolkit: our flask-smorest Blueprint (validation errors are 400, as the SaaS
frontend expects) and the multipart `file` of the media upload endpoints."""

from __future__ import annotations

import flask_smorest
from flask import request
from webargs.flaskparser import FlaskParser

from whaticket.errors import AppError


class Parser(FlaskParser):
    """webargs parser answering invalid input with 400 instead of 422."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint using the 400 parser."""

    ARGUMENTS_PARSER = Parser()


#: OpenAPI body of the media upload endpoints (multipart field `file`).
MEDIA_UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    }
}


def uploaded_file() -> tuple[bytes, str, str]:
    """The multipart `file` as (bytes, name, declared type); 400 fields.file when missing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise AppError("ERR_VALIDATION", 400, {"file": ["Missing data for required field."]})
    return upload.read(), upload.filename, upload.mimetype or ""
