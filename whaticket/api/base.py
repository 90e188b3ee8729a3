"""Our flask-smorest Blueprint: validation errors are 400, as the SaaS frontend expects."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class Parser(FlaskParser):
    """webargs parser answering invalid input with 400 instead of 422."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint using the 400 parser."""

    ARGUMENTS_PARSER = Parser()
