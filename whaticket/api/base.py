"""The views' toolkit: our flask-smorest Blueprint (validation errors are 400, as the SaaS
frontend expects), the bounded `<int:...>` path converter and the multipart `file` of the
media upload endpoints."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Request, request
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter, Map

from whaticket.errors import AppError
from whaticket.schemas.base import INT_MAX


class Parser(FlaskParser):
    """webargs parser answering invalid input with 400 instead of 422."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Request) -> Any:
        """The body through `request.get_json`: the app's strict parser, parsed once per
        request (utils/strict_json: too deep, lone surrogates, NaN are 400 ERR_INVALID_JSON)."""
        if not is_json_request(req) or not req.get_data(cache=True):
            return missing
        return req.get_json()


def digits_at_most(limit: int) -> str:
    """A regex of the decimal numbers 0..`limit` (leading zeros allowed)."""
    text = str(limit)
    width = len(text)
    options = [rf"\d{{1,{width - 1}}}"] if width > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = width - i - 1
            options.append(f"{text[:i]}[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(text)
    return "0*(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in every route (create_app registers it as "int"): an id an INT column
    holds. A larger number matches no route, so it answers 404 like an unknown id.

    The bound is in the regex, not only in `max`: werkzeug compares a rule's methods
    before its converters, so a path that fails only `max` would be 405 where the rule
    has other methods.
    """

    regex = digits_at_most(INT_MAX)

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, INT_MAX if max is None else max, signed)


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
