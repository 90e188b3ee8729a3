"""Import job schemas: the 202 answer of a big upload and `GET /imports/<id>`."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class ImportRowErrorSchema(BaseSchema):
    """One refused row: its spreadsheet row number and why."""

    row = fields.Integer()
    error = fields.String()


class ImportSchema(BaseSchema):
    """An import job: `{jobId, status, rows}` and its progress and summary (no row echo)."""

    job_id = fields.Integer(attribute="id", dump_only=True)
    kind = fields.String()
    contact_list_id = fields.Integer(attribute="target_id", allow_none=True)
    #: queued, running, done or failed.
    status = fields.String()
    #: Data rows in the file (`total` too); `done` of them are imported.
    rows = fields.Integer(attribute="total", dump_only=True)
    total = fields.Integer(dump_only=True)
    done = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    existing = fields.Integer()
    #: How many rows were refused; `errorRows` lists the first 100.
    errors = fields.Integer()
    error_rows = fields.Method("_error_rows")
    #: Why a failed import stopped (an ERR_ code).
    error = fields.String(allow_none=True)
    created_at = Timestamp()
    finished_at = Timestamp(allow_none=True)

    def _error_rows(self, record: Any) -> list[dict[str, Any]]:
        """The first refused rows, [{row, error}]."""
        return list(json.loads(record.error_rows or "[]"))
